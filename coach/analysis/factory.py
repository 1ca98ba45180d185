"""Choose the analyzer from settings: OpenAI when a key is set, the offline coach otherwise."""

from __future__ import annotations

from coach.analysis.base import Analyzer
from coach.analysis.offline import OfflineCoach
from coach.settings import Settings


def build_analyzer(settings: Settings) -> Analyzer:
    """The analyzer this deployment uses."""
    if settings.openai_api_key is not None:
        from coach.analysis.openai_coach import OpenAIAnalyzer

        return OpenAIAnalyzer(settings)
    return OfflineCoach()
