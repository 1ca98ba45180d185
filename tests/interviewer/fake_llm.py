"""A scripted LLM implementing livekit-agents' `llm.LLM`, for the voice interviewer's tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions


@dataclass
class Said:
    """The model answers with text."""

    text: str


@dataclass
class Calls:
    """The model calls a tool."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


class FakeLLM(llm.LLM):
    """Replies from a script, one item per request; records what it was asked."""

    def __init__(self, script: list[Said | Calls]) -> None:
        super().__init__()
        self.script = list(script)
        self.requests: list[llm.ChatContext] = []
        self.tools_seen: list[list[str]] = []

    @property
    def model(self) -> str:
        return "fake"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        **kwargs: Any,
    ) -> llm.LLMStream:
        self.requests.append(chat_ctx.copy())
        self.tools_seen.append([getattr(t, "id", getattr(t, "name", "")) for t in tools or []])
        reply = self.script.pop(0) if self.script else Said("Thank you.")
        return _Stream(self, reply, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _Stream(llm.LLMStream):
    def __init__(self, owner: FakeLLM, reply: Said | Calls, **kwargs: Any) -> None:
        super().__init__(owner, **kwargs)
        self._reply = reply

    async def _run(self) -> None:
        n = len(self._llm.requests)  # type: ignore[attr-defined]
        if isinstance(self._reply, Said):
            delta = llm.ChoiceDelta(role="assistant", content=self._reply.text)
        else:
            call = llm.FunctionToolCall(
                name=self._reply.name, arguments=json.dumps(self._reply.arguments),
                call_id=f"call_{n}",
            )  # fmt: skip
            delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
        self._event_ch.send_nowait(llm.ChatChunk(id=f"fake-{n}", delta=delta))
        # what a provider reports: the request's size in, a fixed answer size out
        usage = llm.CompletionUsage(
            prompt_tokens=PROMPT_TOKENS, completion_tokens=ANSWER_TOKENS,
            total_tokens=PROMPT_TOKENS + ANSWER_TOKENS,
        )  # fmt: skip
        self._event_ch.send_nowait(llm.ChatChunk(id=f"fake-{n}", usage=usage))


PROMPT_TOKENS = 120
ANSWER_TOKENS = 15


_ = NOT_GIVEN
