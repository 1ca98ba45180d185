"""The one interface every coaching analyzer implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from coach.analysis.feedback import AiAnalysis
from coach.speech.summary import SessionSummary


class Analyzer(Protocol):
    """Turns a session's metrics into coaching feedback."""

    name: str

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        """Coach one session; raise `ProviderError` when a provider fails."""
        ...

    async def aclose(self) -> None:
        """Release clients and connections."""
        ...
