"""Coaching text from an OpenAI-compatible model with structured outputs; scores stay coach's."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

import openai
from pydantic import BaseModel, ValidationError

from coach.analysis.assessment import assess, wire_fields
from coach.analysis.feedback import AiAnalysis, Improvement, QuestionFeedback
from coach.analysis.offline import OfflineCoach, snap
from coach.providers import ProviderError, ProviderObserver, RetryPolicy, call_with_retry
from coach.settings import Settings
from coach.speech.summary import SessionSummary
from coach.usage import record_llm

log = logging.getLogger("coach.analysis.openai")

PROVIDER = "openai"

SYSTEM = """You are an experienced interview coach. You receive the transcript of a candidate's
spoken answer with timestamps, and measurements of how it was spoken. Write honest, specific
feedback in plain second person. Cite moments by their timestamp in seconds, taken from the
transcript. Do not invent numbers: use the measurements given. For each interview question,
grade the content of the answer from 0 to 100 (relevance, structure, concrete evidence) and
quote, word for word, the sentence of the transcript that best supports the grade. An answer
that is empty, off-topic or nonsense gets a low grade."""


class RubricScore(BaseModel):
    """The model's grade of one answer, with a quote that must really be in the transcript."""

    question: str
    score: int
    evidence: str
    feedback: str


class ModelImprovement(BaseModel):
    """One improvement as the model writes it."""

    title: str
    timestamp: float
    description: str


class ModelAnswer(BaseModel):
    """The structured output asked of the model."""

    summary: str
    pace_analysis: str
    filler_analysis: str
    improvements: list[ModelImprovement]
    highlights: list[str]
    rubric: list[RubricScore]


class InvalidAnswer(Exception):
    """The model's answer parsed but breaks a rule coach checks."""


def _normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


def build_prompt(summary: SessionSummary, questions: Sequence[str]) -> str:
    """Everything the model needs, as compact text."""
    lines = []
    asked = list(questions) or [q.text for q in summary.questions]
    lines.append("Interview question(s): " + (" | ".join(asked) if asked else "(not given)"))
    lines.append(
        f"Duration {summary.duration:.1f} s, {summary.total_words} words,"
        f" {summary.average_pace:.0f} wpm overall,"
        f" {summary.speaking_pace or summary.average_pace:.0f} wpm while speaking."
    )
    lines.append("Transcript (start time in seconds, then text):")
    lines += [f"[{seg.start_time:.1f}] {seg.text}" for seg in summary.transcript_segments]
    lines.append(
        "Pace per segment: "
        + ", ".join(
            f"{p.segment_start:.0f}-{p.segment_end:.0f}s {p.wpm:.0f} wpm"
            for p in summary.pace_timeline
        )
    )
    lines.append(f"Fillers ({len(summary.fillers)}):")
    lines += [
        f"- '{f.word}' at {f.timestamp:.1f} s: …{f.context_before} [{f.word}] {f.context_after}…"
        for f in summary.fillers
    ]
    lines.append(
        "Long pauses: "
        + (
            ", ".join(f"{p.duration:.1f} s at {p.timestamp:.1f} s" for p in summary.pauses)
            or "none"
        )
    )
    if summary.hedges:
        lines.append(
            "Hedges: " + ", ".join(f"'{h.word}' at {h.timestamp:.1f} s" for h in summary.hedges)
        )
    a = assess(summary, questions)
    lines.append("Findings computed by coach (your words must agree with every verdict):")
    lines += [
        f"- {f.label}: {f.value:.2f} {f.unit}, band {f.band.good}, verdict {f.verdict.value}"
        for f in a.findings
    ]
    lines.append(
        "Write improvements that each cite a moment by its timestamp, highlights of what went"
        " well, and one rubric entry per question. Praise only what a finding calls a strength;"
        " fault only what it calls a weakness."
    )
    return "\n".join(lines)


def validate(
    answer: ModelAnswer, summary: SessionSummary, questions: Sequence[str] = ()
) -> AiAnalysis:
    """Check the model's answer against the session, then score; raise `InvalidAnswer`."""
    starts = [w.start for w in summary.words]
    improvements = []
    for imp in answer.improvements:
        if not 0 <= imp.timestamp <= summary.duration + 0.5:
            raise InvalidAnswer(
                f"improvement {imp.title!r} cites {imp.timestamp:.1f} s,"
                f" outside the {summary.duration:.1f} s session"
            )
        improvements.append(
            Improvement(
                title=imp.title, timestamp=snap(imp.timestamp, starts), description=imp.description
            )
        )
    transcript = _normalize(summary.transcript)
    graded = []
    rubric = []
    for r in answer.rubric:
        clamped = max(0, min(100, r.score))
        quote = _normalize(r.evidence)
        # A grade whose evidence is not in the transcript is not evidence: it counts as zero.
        verified = clamped if quote and quote in transcript else 0
        rubric.append(verified)
        graded.append(
            QuestionFeedback(
                question=r.question, score=verified, feedback=r.feedback, evidence=r.evidence
            )
        )
    # The numbers, verdicts, strengths and weaknesses are coach's; the model wrote only words.
    a = assess(summary, questions, rubric=rubric or None)
    return AiAnalysis(
        **wire_fields(a),  # type: ignore[arg-type]
        summary=answer.summary,
        pace_analysis=answer.pace_analysis,
        filler_analysis=answer.filler_analysis,
        improvements=improvements,
        highlights=answer.highlights,
        questions=graded,
        analyzer="",
    )


def provider_error(e: openai.OpenAIError) -> ProviderError:
    """The SDK's error in coach's words, marked retryable where waiting can help."""
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderError(
            PROVIDER, "OpenAI refused the API key (OPENAI_API_KEY)", retryable=False
        )
    if isinstance(e, openai.RateLimitError):
        return ProviderError(PROVIDER, "rate limited (429)", retryable=True)
    if isinstance(e, openai.APITimeoutError):
        return ProviderError(PROVIDER, "the request timed out", retryable=True)
    if isinstance(e, openai.APIConnectionError):
        return ProviderError(PROVIDER, "could not reach the server", retryable=True)
    if isinstance(e, openai.APIStatusError):
        return ProviderError(
            PROVIDER, f"server answered {e.status_code}", retryable=e.status_code >= 500
        )
    return ProviderError(PROVIDER, str(e), retryable=False)


class OpenAIAnalyzer:
    """Coaching from any OpenAI-compatible chat-completions server."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: ProviderObserver | None = None,
    ) -> None:
        assert settings.openai_api_key is not None
        self._observer = observer
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout_seconds,
            max_retries=0,  # retries live once, in coach.providers
        )
        self._model = settings.openai_model
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.name = f"openai:{self._model}"

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        """Coach one session; an answer failing validation is asked again once."""
        if summary.total_words == 0:
            return OfflineCoach().analyze_sync(summary, questions=questions)
        prompt = build_prompt(summary, questions)
        problem = ""
        for attempt in (1, 2):
            try:
                answer = await call_with_retry(
                    lambda: self._ask(prompt), self._retry, provider=PROVIDER, sleep=self._sleep,
                    observer=self._observer,
                )  # fmt: skip
                analysis = validate(answer, summary, questions)
            except (InvalidAnswer, ValidationError, ValueError) as e:
                problem = str(e).splitlines()[0]
                log.warning("model answer failed validation (attempt %d): %s", attempt, problem)
                continue
            return analysis.model_copy(update={"analyzer": self.name})
        raise ProviderError(
            PROVIDER, f"the model's answer failed validation twice ({problem})", retryable=False
        )

    async def _ask(self, prompt: str) -> ModelAnswer:
        try:
            completion = await self._client.chat.completions.parse(
                model=self._model,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": prompt},
                ],
                response_format=ModelAnswer,
                temperature=0.2,
            )
        except openai.LengthFinishReasonError as e:
            raise InvalidAnswer("the answer was cut off") from e
        except openai.OpenAIError as e:
            raise provider_error(e) from e
        if completion.usage is not None:
            record_llm(self._model, "analysis", completion.usage.prompt_tokens,
                       completion.usage.completion_tokens)  # fmt: skip
        parsed = completion.choices[0].message.parsed
        if parsed is None:
            raise InvalidAnswer("the model refused or returned no content")
        return parsed
