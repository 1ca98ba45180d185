"""Drills over a real WebSocket: one prompt, nudges on one habit, a time limit, a result."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np

from coach.drills import HABITS
from coach.settings import Settings
from tests.analysis.sessions import FIXTURES, truth
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for, database, fetch


def _silence(seconds: float) -> bytes:
    return np.zeros(int(seconds * 16000), dtype="<i2").tobytes()


async def _analyzed(srv: Any, token: str, interview_id: str) -> dict[str, Any]:
    for _ in range(200):
        stored = (await fetch(srv.url, token, f"/api/interviews/{interview_id}")).json()
        if stored["status"] != "processing":
            return dict(stored)
        await asyncio.sleep(0.1)
    raise AssertionError("the drill was never analyzed")


async def test_a_fillers_drill_nudges_its_fillers_ends_on_time_and_scores_the_habit(
    tmp_path: Any,
) -> None:
    gt = truth("weakness")
    seconds = 60
    # the answer, then silence past the time limit: the drill ends itself at 60 s
    audio = pcm(FIXTURES / "weakness.wav") + _silence(seconds + 5 - gt["duration"])
    async with serve(app_for(tmp_path, "weakness")) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "drill": {"habit": "fillers", "seconds": seconds}})
            ready = await c.of_type("ready")
            prompt = await c.of_type("question")
            await c.send({"action": "next"})  # a drill has one prompt
            refused = await c.of_type("error")
            await stream(c, audio)
            done = await c.of_type("session_complete")
        nudges = [e for e in c.events if e.get("type") == "nudge"]
        stored = await _analyzed(srv, token, done["interviewId"])
        progress = (await fetch(srv.url, token, "/api/me/progress")).json()

    drill = ready["drill"]
    assert drill["habit"] == "fillers" and drill["seconds"] == seconds
    assert drill["prompt"] in HABITS["fillers"].prompts
    assert prompt["text"].endswith(drill["prompt"])
    assert HABITS["fillers"].instruction in prompt["text"]
    assert (prompt["number"], prompt["of"]) == (1, 1)
    assert refused["code"] == "no_next_question"
    # nudged about fillers only, each at a filler the answer really has
    warns = [n for n in nudges if n["tone"] == "warn"]
    assert warns and {n["habit"] for n in nudges} == {"fillers"}
    said = [f["timestamp"] for f in stored["fillers"]]
    assert len(said) == len(gt["fillers"])
    for n in warns:
        assert min(abs(n["at"] - t) for t in said) < 0.01, n
    assert len(warns) <= len(said)
    # the ~28 s of silence after the last filler earned a word of praise
    assert any(n["tone"] == "good" for n in nudges)
    # ended by its time limit, not by the client, and stored with what it was
    assert seconds - 0.5 <= stored["duration"] <= seconds + 1.0
    assert stored["drill"] == drill
    finding = next(
        f for f in stored["aiAnalysis"]["findings"] if f["measure"] == "fillers_per_minute"
    )
    result = stored["drillResult"]
    assert (result["habit"], result["value"], result["verdict"]) == (
        "fillers",
        finding["value"],
        finding["verdict"],
    )
    # counted in progress, marked as a drill
    assert progress["drills"] == 1 and progress["interviews"] == 1
    fpm = next(m for m in progress["measures"] if m["measure"] == "fillers_per_minute")
    assert [s["kind"] for s in fpm["samples"]] == ["drill"]


async def test_a_pauses_drill_nudges_each_long_silence_once(tmp_path: Any) -> None:
    gt = truth("weakness")
    threshold = Settings().pause_threshold_seconds
    audio = pcm(FIXTURES / "weakness.wav") + _silence(4.0)
    async with serve(app_for(tmp_path, "weakness")) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "drill": {"habit": "pauses"}})
            assert (await c.of_type("ready"))["drill"]["seconds"] == 90
            await stream(c, audio)
            await c.next(lambda e: e.get("type") == "nudge" and e["at"] > gt["duration"])
            await c.send({"action": "complete"})
            await c.of_type("session_complete")
    nudges = [e for e in c.events if e.get("type") == "nudge"]
    assert {n["habit"] for n in nudges} == {"pauses"}
    # one nudge in each long pause of the answer (as soon as it passes the threshold), and
    # one in the silence after it
    silences = [(p["timestamp"], p["timestamp"] + p["duration"]) for p in gt["longPauses"]]
    silences.append((gt["duration"] - 1.0, gt["duration"] + 4.0))
    for lo, hi in silences:
        inside = [n for n in nudges if lo + threshold - 0.3 <= n["at"] <= hi + 0.3]
        assert len(inside) == 1, (lo, hi, nudges)
    assert len(nudges) == len(silences)


async def test_a_bad_drill_is_refused_with_its_field(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "drill": {"habit": "posture"}})
            err = await c.of_type("error")
            assert err["code"] == "bad_start" and "drill.habit" in err["message"]
            await c.send({**STREAM, "drill": {"habit": "pace", "seconds": 600}})
            assert "drill.seconds" in (await c.of_type("error"))["message"]
            both = {**STREAM, "drill": {"habit": "pace"}, "plan": {"role": "x"}}
            await c.send(both)
            err = await c.of_type("error")
            assert err["code"] == "bad_start" and "not both" in err["message"]
            await c.send({**STREAM, "drill": {"habit": "pace"}})
            await c.of_type("ready")


async def test_a_drill_recovered_from_its_journal_is_still_a_drill(tmp_path: Any) -> None:
    """A process that died mid-drill: the next start stores it from the journal, as a drill."""
    journals = tmp_path / "recordings" / "journal"
    audio = pcm(FIXTURES / "weakness.wav")
    db = database()  # the same store across the two processes' lives
    async with serve(app_for(tmp_path, "weakness", db=db)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "drill": {"habit": "pace", "seconds": 60}})
            drill = (await c.of_type("ready"))["drill"]
            await stream(c, audio[: len(audio) // 2])
            await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
            # the journal as a kill -9 would leave it, the final's words in it: they were queued
            # before the final was sent, and its lines are written in order, so two lines more
            # (the clock's, every metrics tick) mean they are on disk
            found = list(journals.glob("*.jsonl"))
            lines = len(found[0].read_text().splitlines()) if found else 0
            for _ in range(200):
                found = list(journals.glob("*.jsonl"))
                if found and len(found[0].read_text().splitlines()) >= lines + 2:
                    break
                await asyncio.sleep(0.05)
            left = found[0].read_bytes()
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete")
        # this process stored it; pretend it never did
        async with httpx.AsyncClient(base_url=srv.url) as h:
            auth = {"authorization": f"Bearer {token}"}
            await _analyzed(srv, token, done["interviewId"])
            r = await h.delete(f"/api/interviews/{done['interviewId']}", headers=auth)
            assert r.status_code == 204
    found[0].write_bytes(left)
    async with serve(app_for(tmp_path, "weakness", db=db)) as srv:
        items = (await fetch(srv.url, token, "/api/interviews")).json()["items"]
        assert len(items) == 1
        recovered = await _analyzed(srv, token, items[0]["id"])
    assert recovered["drill"] == drill
    assert recovered["words"] and recovered["drillResult"]["habit"] == "pace"
    assert not list(journals.glob("*.jsonl"))


async def test_a_resumed_drill_says_it_is_one(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "drill": {"habit": "fillers", "seconds": 60}})
            first = await c.of_type("ready")
        # the network dropped; the app takes the drill back and still knows what it is
        async with client(srv.ws_url, token) as c:
            await c.send({"action": "resume", "sessionId": first["sessionId"]})
            again = await c.of_type("ready")
            await c.send({"action": "complete"})
            await c.of_type("session_complete")
    assert again["resumed"] and again["drill"] == first["drill"]
