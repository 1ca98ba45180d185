"""The OpenAI analyzer through the real SDK against a local chat-completions server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from coach.analysis.offline import OfflineCoach
from coach.analysis.openai_coach import OpenAIAnalyzer
from coach.app import create_app
from coach.providers import ProviderError, RetryPolicy
from coach.settings import Settings
from coach.speech.summary import SessionSummary

from .fake_openai import FakeOpenAI, Reply, answer, serve
from .sessions import from_truth, nonsense, truth

QUESTION = "Walk me through a project you are proud of."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve() as server:
        yield server


@pytest.fixture
def summary() -> SessionSummary:
    return from_truth(truth("project"))


async def no_wait(_: float) -> None:
    await asyncio.sleep(0)


Make = Callable[..., OpenAIAnalyzer]


@pytest.fixture
async def make(fake: FakeOpenAI) -> AsyncIterator[Make]:
    made: list[OpenAIAnalyzer] = []

    def build(timeout: float = 5.0) -> OpenAIAnalyzer:
        settings = Settings(
            openai_api_key="sk-test-made-up",
            openai_base_url=fake.url,
            openai_timeout_seconds=timeout,
        )
        made.append(OpenAIAnalyzer(settings, retry=RetryPolicy(attempts=3), sleep=no_wait))
        return made[-1]

    yield build
    for coach in made:
        await coach.aclose()


async def test_good_answer(fake: FakeOpenAI, make: Make, summary: SessionSummary) -> None:
    fake.replies = [Reply(answer())]
    report = await make().analyze(summary, questions=[QUESTION])
    assert report.analyzer.startswith("openai:")
    assert report.summary == "A clear answer with a concrete result."
    starts = {w.start for w in summary.words}
    assert [i.timestamp in starts for i in report.improvements] == [True]
    assert report.questions[0].score == 80
    request = fake.requests[0]
    assert request["response_format"]["type"] == "json_schema"
    prompt = request["messages"][1]["content"]
    assert QUESTION in prompt
    for f in summary.fillers:
        assert f"'{f.word}' at {f.timestamp:.1f} s" in prompt
    assert fake.headers[0]["authorization"] == "Bearer sk-test-made-up"


async def test_findings_and_verdicts_are_coachs_and_match_the_offline_coach(
    fake: FakeOpenAI, make: Make, summary: SessionSummary
) -> None:
    fake.replies = [Reply(answer())]
    report = await make().analyze(summary, questions=[QUESTION])
    offline = OfflineCoach().analyze_sync(summary, questions=[QUESTION])
    assert report.strengths == offline.strengths
    assert report.weaknesses == offline.weaknesses
    assert report.findings == offline.findings and report.content == offline.content
    prompt = fake.requests[0]["messages"][1]["content"]
    for f in offline.findings:
        assert f"- {f.label}: " in prompt and f"verdict {f.verdict}" in prompt


async def test_scores_are_coachs_not_the_models(
    fake: FakeOpenAI, make: Make, summary: SessionSummary
) -> None:
    fake.replies = [
        Reply(
            answer(
                rubric=[
                    {
                        "question": QUESTION,
                        "score": 100,
                        "evidence": "words that were never said",
                        "feedback": "Perfect.",
                    }
                ]
            )
        )
    ]
    report = await make().analyze(summary)
    assert report.questions[0].score == 0  # unverifiable evidence counts for nothing
    assert report.overall_score < 50


async def test_out_of_range_score_is_clamped(
    fake: FakeOpenAI, make: Make, summary: SessionSummary
) -> None:
    rubric = json.loads(answer())["rubric"]
    rubric[0]["score"] = 150
    fake.replies = [Reply(answer(rubric=rubric))]
    report = await make().analyze(summary)
    assert report.questions[0].score == 100
    assert 0 <= report.overall_score <= 100


@pytest.mark.parametrize(
    "bad",
    [
        Reply("{not json"),
        Reply(answer(improvements=[{"title": "x", "timestamp": 999.0, "description": "y"}])),
    ],
    ids=["malformed-json", "timestamp-past-the-end"],
)
async def test_invalid_answer_is_asked_again_once(
    fake: FakeOpenAI, make: Make, summary: SessionSummary, bad: Reply
) -> None:
    fake.replies = [bad, Reply(answer())]
    report = await make().analyze(summary)
    assert report.summary and len(fake.requests) == 2
    fake.replies = [bad, bad]
    with pytest.raises(ProviderError, match="failed validation twice") as e:
        await make().analyze(summary)
    assert not e.value.retryable


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_are_retried(
    fake: FakeOpenAI, make: Make, summary: SessionSummary, status: int
) -> None:
    fake.replies = [Reply(status=status), Reply(answer())]
    report = await make().analyze(summary)
    assert report.summary and len(fake.requests) == 2


async def test_timeout_is_retried(fake: FakeOpenAI, make: Make, summary: SessionSummary) -> None:
    fake.replies = [Reply(answer(), delay=1.5), Reply(answer())]
    report = await make(timeout=0.5).analyze(summary)
    assert report.summary and len(fake.requests) == 2


async def test_bad_key_fails_at_once(fake: FakeOpenAI, make: Make, summary: SessionSummary) -> None:
    fake.replies = [Reply(status=401), Reply(answer())]
    with pytest.raises(ProviderError, match="refused the API key") as e:
        await make().analyze(summary)
    assert not e.value.retryable and len(fake.requests) == 1


async def test_nonsense_scores_low_even_when_the_model_is_generous(
    fake: FakeOpenAI, make: Make
) -> None:
    junk = nonsense()
    quote = " ".join(w.word for w in junk.words[:6])
    generous: dict[str, Any] = {
        "question": QUESTION,
        "score": 70,
        "evidence": quote,
        "feedback": "Fine.",
    }
    fake.replies = [Reply(answer(rubric=[generous], improvements=[]))]
    report = await make().analyze(junk)
    assert report.questions[0].score == 70  # the quote is real, so the grade stands
    assert report.overall_score < 40  # but the transcript itself caps the score


async def test_app_chooses_openai_and_stores_its_analysis_or_failure(
    fake: FakeOpenAI, summary: SessionSummary
) -> None:
    settings = Settings(
        openai_api_key="sk-test-made-up",
        openai_base_url=fake.url,
        jwt_secret="test-secret-" + "x" * 32,
        _env_file=None,  # type: ignore[call-arg]
    )
    fake.replies = [Reply(answer()), Reply(status=401)]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = {"email": "a@example.com", "password": "correct horse"}
            r = await c.post("/api/auth/register", json=body)
            h = {"authorization": f"Bearer {r.json()['token']}"}
            stored = []
            for room in ("room-1", "room-2"):
                r = await c.post(
                    "/api/interviews/analyze",
                    headers=h,
                    json={
                        "roomName": room,
                        "participantIdentity": "me",
                        "sessionData": summary.model_dump(by_alias=True),
                    },
                )
                assert r.status_code == 202, r.text
                for _ in range(300):
                    got = (await c.get(f"/api/interviews/{r.json()['id']}", headers=h)).json()
                    if got["status"] != "processing":
                        break
                    await asyncio.sleep(0.02)
                stored.append(got)
    assert stored[0]["status"] == "completed"
    assert stored[0]["aiAnalysis"]["analyzer"].startswith("openai:")
    assert stored[0]["aiAnalysis"]["summary"] == "A clear answer with a concrete result."
    assert stored[1]["status"] == "failed"
    # the provider's reason is for the server's log; the client is told it failed, and to retry
    assert "API key" not in stored[1]["error"] and "retry" in stored[1]["error"]
