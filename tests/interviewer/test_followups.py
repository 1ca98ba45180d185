"""Generated follow-ups through the real OpenAI SDK against a local fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coach.interviewer.followups import OpenAIFollowups
from coach.interviewer.plan import InterviewPlan
from coach.providers import ProviderError
from coach.settings import Settings
from tests.analysis.fake_openai import FakeOpenAI, Reply, serve

PLAN = InterviewPlan(role="Backend engineer", seniority="senior", job_description="Payments team")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve() as f:
        yield f


def writer(fake: FakeOpenAI) -> OpenAIFollowups:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key="sk-test-made-up",  # type: ignore[arg-type]
        openai_base_url=fake.url,
    )
    return OpenAIFollowups(settings, timeout=2.0)


async def test_follow_up_is_asked_about_the_answer(fake: FakeOpenAI) -> None:
    fake.replies = [Reply(content="What did the migration guide change for the other teams?")]
    w = writer(fake)
    try:
        got = await w.followup(PLAN, "Tell me about a project.", "I wrote a migration guide.")
    finally:
        await w.aclose()
    assert got == "What did the migration guide change for the other teams?"
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "I wrote a migration guide." in prompt and "Payments team" in prompt
    assert "senior Backend engineer" in prompt


@pytest.mark.parametrize("content", ["NONE", "", "Great answer, well done."])
async def test_no_follow_up_when_the_model_declines_or_does_not_ask(
    fake: FakeOpenAI, content: str
) -> None:
    fake.replies = [Reply(content=content)]
    w = writer(fake)
    try:
        assert await w.followup(PLAN, "q?", "a.") is None
    finally:
        await w.aclose()


async def test_failures_are_provider_errors_without_retry(fake: FakeOpenAI) -> None:
    fake.replies = [Reply(status=401), Reply(status=500)]
    w = writer(fake)
    try:
        with pytest.raises(ProviderError) as bad_key:
            await w.followup(PLAN, "q?", "a.")
        assert not bad_key.value.retryable
        with pytest.raises(ProviderError):
            await w.followup(PLAN, "q?", "a.")
    finally:
        await w.aclose()
    assert len(fake.requests) == 2  # one try each: the candidate is waiting
