"""Follow-up questions from an OpenAI-compatible model, when a key is configured."""

from __future__ import annotations

import logging

import openai

from coach.interviewer.plan import InterviewPlan
from coach.providers import ProviderError
from coach.settings import Settings
from coach.usage import record_llm

log = logging.getLogger("coach.interviewer.followups")

SYSTEM = (
    "You are a job interviewer. Given the question you asked and the candidate's answer, "
    "reply with ONE short, natural follow-up question (at most 25 words) that probes a "
    "specific detail of the answer: a decision, a result, a trade-off. Do not coach, praise "
    "or summarise. If the answer is complete and needs no follow-up, reply exactly NONE."
)


class OpenAIFollowups:
    """Writes follow-ups with chat completions; any failure means no follow-up."""

    def __init__(self, settings: Settings, *, timeout: float = 8.0) -> None:
        if settings.openai_api_key is None:
            raise ValueError("OPENAI_API_KEY is required for generated follow-ups")
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            # the candidate is waiting: one quick try, then move on without a follow-up
            timeout=timeout,
            max_retries=0,
        )
        self._model = settings.openai_model

    async def followup(self, plan: InterviewPlan, question: str, answer: str) -> str | None:
        """One follow-up question, or None when the model says none is needed."""
        role = f"{plan.seniority} {plan.role}"
        context = f"Job description:\n{plan.job_description}\n\n" if plan.job_description else ""
        try:
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {
                        "role": "user",
                        "content": f"Role: {role}\n{context}Question: {question}\nAnswer: {answer}",
                    },
                ],
                max_tokens=80,
                temperature=0.4,
            )
        except openai.APIError as e:
            retryable = not isinstance(e, openai.AuthenticationError | openai.BadRequestError)
            raise ProviderError("openai", f"follow-up failed: {e}", retryable=retryable) from e
        if completion.usage is not None:
            record_llm(self._model, "followup", completion.usage.prompt_tokens,
                       completion.usage.completion_tokens)  # fmt: skip
        text = (completion.choices[0].message.content or "").strip().strip('"')
        if not text or text.upper().startswith("NONE"):
            return None
        return text if text.endswith("?") else None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
