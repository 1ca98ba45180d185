"""Choose the analyzer from settings: OpenAI when a key is set, the offline coach otherwise."""

from __future__ import annotations

from coach.analysis.base import Analyzer
from coach.analysis.offline import OfflineCoach
from coach.providers import ProviderObserver
from coach.settings import Settings


def build_analyzer(settings: Settings, observer: ProviderObserver | None = None) -> Analyzer:
    """The analyzer this deployment uses; `observer` sees its provider calls."""
    if settings.openai_api_key is not None:
        from coach.analysis.openai_coach import OpenAIAnalyzer

        return OpenAIAnalyzer(settings, observer=observer)
    return OfflineCoach()
