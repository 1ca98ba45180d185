"""/metrics after a real stream session on uvicorn, and its token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.analysis.sessions import FIXTURES
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_stream_session_shows_in_every_family(tmp_path: Any) -> None:
    audio = pcm(FIXTURES / "weakness.wav")
    async with serve(app_for(tmp_path, "weakness")) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, None) as refused:
            await refused.ws.wait_closed()
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, audio)
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete", within=30)
            await c.of_type("analysis_complete", within=30)
        async with httpx.AsyncClient(base_url=srv.url) as h:
            stored = (
                await h.get(
                    f"/api/interviews/{done['interviewId']}",
                    headers={"authorization": f"Bearer {token}"},
                )
            ).json()
            r = await h.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    found = samples(r.text)
    seconds = len(audio) / 32000
    # the stored interview says what it used, and the metrics sum it
    assert stored["usage"]["sttSeconds"] == {"scripted": pytest.approx(seconds, abs=0.01)}
    assert stored["usage"]["llm"] == []  # the offline coach uses no model
    assert stored["usage"]["livekitParticipantMinutes"] == 0
    assert value(found, "coach_usage_stt_seconds_total", provider="scripted") == pytest.approx(
        seconds, abs=0.01
    )
    assert value(found, "coach_ws_connects_total") == 2
    assert value(found, "coach_ws_refusals_total", code="4401") == 1
    assert value(found, "coach_live_sessions_started_total", mode="stream") == 1
    assert value(found, "coach_live_sessions_finished_total", reason="complete") == 1
    assert value(found, "coach_live_sessions_open") == 0
    assert value(found, "coach_audio_in_seconds_total", mode="stream") == pytest.approx(
        seconds, abs=0.01
    )
    assert value(found, "coach_audio_dropped_seconds_total", recognizer="scripted") == 0
    finals = value(found, "coach_transcript_latency_seconds_count", recognizer="scripted")
    assert finals > 0
    # the scripted recognizer answers as soon as it has the audio: well under a second behind
    assert value(found, "coach_transcript_latency_seconds_sum", recognizer="scripted") < finals
    assert value(
        found,
        "coach_http_request_duration_seconds_count",
        method="POST", route="/api/auth/register", status="201",
    ) == 1  # fmt: skip
    assert value(
        found,
        "coach_http_request_duration_seconds_count",
        method="GET", route="/api/interviews/{id}", status="200",
    ) == 1  # fmt: skip
    assert value(found, "coach_analysis_duration_seconds_count", analyzer="offline") == 1
    assert value(found, "coach_analysis_queue") == 0
    names = {f.name for f in text_string_to_metric_families(r.text)}
    for family in (
        "coach_ws_drops", "coach_ws_events_dropped", "coach_provider_calls",
        "coach_provider_errors", "coach_provider_retries", "coach_analysis_failures",
        "coach_db_operation_duration_seconds", "coach_journal_recoveries",
        "coach_usage_llm_tokens", "coach_usage_livekit_participant_minutes",
        "coach_usage_egress_minutes",
    ):  # fmt: skip
        assert family in names, family


async def test_metrics_token_guards_the_endpoint(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path, metrics_token="scrape-" + "m" * 20)) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as h:
            assert (await h.get("/metrics")).status_code == 401
            wrong = await h.get("/metrics", headers={"authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = await h.get("/metrics", headers={"authorization": "Bearer scrape-" + "m" * 20})
    assert right.status_code == 200 and "coach_live_sessions_open" in right.text


async def test_two_apps_count_apart(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path / "a")) as one, serve(app_for(tmp_path / "b")) as two:
        async with httpx.AsyncClient() as h:
            await h.get(f"{one.url}/health/live")
            first = samples((await h.get(f"{one.url}/metrics")).text)
            second = samples((await h.get(f"{two.url}/metrics")).text)
    key = dict(method="GET", route="/health/live", status="200")
    assert value(first, "coach_http_request_duration_seconds_count", **key) == 1
    assert value(second, "coach_http_request_duration_seconds_count", **key) == 0
