"""A local server speaking OpenAI's chat-completions wire format, scripted per request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Reply:
    """One scripted answer: a JSON content string, or an HTTP error, after an optional delay."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeOpenAI:
    """Answers each POST /v1/chat/completions with the next scripted reply."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def _completions(self, request: Request) -> JSONResponse:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        reply = self.replies.pop(0) if self.replies else Reply(status=500)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(
                reply.status, "server_error"
            )
            return JSONResponse(
                {"error": {"message": f"scripted {reply.status}", "type": kind, "code": kind}},
                status_code=reply.status,
            )
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.requests[-1].get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve() -> Iterator[FakeOpenAI]:
    """Run a FakeOpenAI on a free loopback port in a background thread."""
    fake = FakeOpenAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake._completions, methods=["POST"])])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="fake-openai", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    fake.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def answer(**overrides: Any) -> str:
    """A well-formed model answer as JSON text."""
    body: dict[str, Any] = {
        "summary": "A clear answer with a concrete result.",
        "pace_analysis": "Steady pace.",
        "filler_analysis": "A few fillers near the middle.",
        "improvements": [
            {"title": "Open with the result", "timestamp": 12.0, "description": "Lead with it."}
        ],
        "highlights": ["The numbers were specific."],
        "rubric": [
            {
                "question": "Walk me through a project you are proud of.",
                "score": 80,
                "evidence": "We cut the median response time from nine hundred milliseconds",
                "feedback": "Concrete and relevant.",
            }
        ],
    }
    body.update(overrides)
    return json.dumps(body)
