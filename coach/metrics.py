"""Prometheus metrics of one app: every family on the app's own registry, so an app built twice
(tests, or two apps in one process) never counts into the other's. Labels are bounded: routes
by template, providers, recognizers, models and codes, never a user or an interview."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pymongo import monitoring
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coach.providers import ProviderError

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
_FAST = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)


class Metrics:
    """The metric families of one app and the hooks its parts call."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        # process_resident_memory_bytes, CPU seconds, open files: what a leak or a soak shows
        ProcessCollector(registry=r)
        self.tasks = Gauge(
            "coach_asyncio_tasks", "asyncio tasks alive in the process (a leak grows it)",
            registry=r,
        )  # fmt: skip
        self.tasks.set_function(_task_count)
        self.http_duration = Histogram(
            "coach_http_request_duration_seconds", "HTTP request duration by route template",
            ["method", "route", "status"], buckets=_FAST, registry=r,
        )  # fmt: skip
        self.ws_connects = Counter(
            "coach_ws_connects", "WebSocket connections accepted", registry=r
        )
        self.ws_refusals = Counter(
            "coach_ws_refusals", "WebSocket connections closed at once, by close code",
            ["code"], registry=r,
        )  # fmt: skip
        self.ws_drops = Counter(
            "coach_ws_drops", "WebSockets gone while their session was still live", registry=r
        )
        self.ws_events_dropped = Counter(
            "coach_ws_events_dropped", "interims and metrics not sent to a slow client", registry=r
        )
        self.sessions_open = Gauge("coach_live_sessions_open", "live sessions open", registry=r)
        self.sessions_started = Counter(
            "coach_live_sessions_started", "live sessions started", ["mode"], registry=r
        )
        self.sessions_finished = Counter(
            "coach_live_sessions_finished", "live sessions ended, by reason", ["reason"],
            registry=r,
        )  # fmt: skip
        self.audio_in = Counter(
            "coach_audio_in_seconds", "seconds of audio heard by live sessions", ["mode"],
            registry=r,
        )  # fmt: skip
        self.audio_dropped = Counter(
            "coach_audio_dropped_seconds", "seconds of audio a recognizer dropped (backlog)",
            ["recognizer"], registry=r,
        )  # fmt: skip
        self.transcript_latency = Histogram(
            "coach_transcript_latency_seconds",
            "audio heard minus the end of a final result's last word, when it arrives",
            ["recognizer"], buckets=_LATENCY, registry=r,
        )  # fmt: skip
        self.provider_calls = Counter(
            "coach_provider_calls", "provider call attempts", ["provider"], registry=r
        )
        self.provider_errors = Counter(
            "coach_provider_errors", "provider call attempts that failed",
            ["provider", "retryable"], registry=r,
        )  # fmt: skip
        self.provider_retries = Counter(
            "coach_provider_retries", "provider calls retried", ["provider"], registry=r
        )
        self.provider_duration = Histogram(
            "coach_provider_call_duration_seconds", "one provider call attempt", ["provider"],
            buckets=_SLOW, registry=r,
        )  # fmt: skip
        self.analysis_duration = Histogram(
            "coach_analysis_duration_seconds", "one interview's analysis", ["analyzer"],
            buckets=_SLOW, registry=r,
        )  # fmt: skip
        self.analysis_failures = Counter(
            "coach_analysis_failures", "analyses that failed", ["analyzer"], registry=r
        )
        self.analysis_queue = Gauge(
            "coach_analysis_queue", "analyses queued or running in this process", registry=r
        )
        self.db_duration = Histogram(
            "coach_db_operation_duration_seconds", "MongoDB commands", ["command", "outcome"],
            buckets=_FAST, registry=r,
        )  # fmt: skip
        self.journal_recoveries = Counter(
            "coach_journal_recoveries", "sessions recovered from a journal at start", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.stt_seconds = Counter(
            "coach_usage_stt_seconds", "speech-to-text seconds used, by provider", ["provider"],
            registry=r,
        )  # fmt: skip
        self.llm_tokens = Counter(
            "coach_usage_llm_tokens", "language model tokens used, by model and direction",
            ["model", "direction"], registry=r,
        )  # fmt: skip
        self.tts_seconds = Counter(
            "coach_usage_tts_seconds", "speech synthesized for the voice interviewer, by model",
            ["model"], registry=r,
        )  # fmt: skip
        self.livekit_minutes = Counter(
            "coach_usage_livekit_participant_minutes", "LiveKit participant minutes", registry=r
        )
        self.loop_lag = Histogram(
            "coach_event_loop_lag_seconds",
            "how late the event loop woke a 20 ms timer: the stall every live session felt",
            buckets=(0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.loop_lag_longest = Gauge(
            "coach_event_loop_lag_longest_seconds",
            "the longest event-loop stall in the last minute",
            registry=r,
        )
        self.file_work_pending = Gauge(
            "coach_file_work_pending", "recording and journal writes queued off the loop",
            registry=r,
        )  # fmt: skip
        self.recording_dropped = Counter(
            "coach_recording_dropped_seconds",
            "seconds of audio left out of recordings because the disk fell behind",
            registry=r,
        )
        self.egress_minutes = Counter(
            "coach_usage_egress_minutes", "LiveKit Egress recording minutes", registry=r
        )

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    def watch(self, gauge: Gauge, read: Callable[[], float]) -> None:
        """Read `gauge` from `read` at every scrape."""
        gauge.set_function(read)

    # -- hooks ---------------------------------------------------------------------------

    def provider_call(self, provider: str, seconds: float, error: ProviderError | None) -> None:
        """One provider attempt (coach.providers.ProviderObserver)."""
        self.provider_calls.labels(provider).inc()
        self.provider_duration.labels(provider).observe(seconds)
        if error is not None:
            self.provider_errors.labels(provider, str(error.retryable).lower()).inc()

    def provider_retry(self, provider: str) -> None:
        """A provider call retried."""
        self.provider_retries.labels(provider).inc()

    def usage(self, usage: Any) -> None:
        """Add one interview's usage (coach.usage.Usage) to the totals."""
        for provider, seconds in usage.stt_seconds.items():
            self.stt_seconds.labels(provider).inc(seconds)
        for call in usage.llm:
            self.llm_tokens.labels(call.model, "input").inc(call.input_tokens)
            self.llm_tokens.labels(call.model, "output").inc(call.output_tokens)
        for model, seconds in usage.tts_seconds.items():
            self.tts_seconds.labels(model).inc(seconds)
        self.livekit_minutes.inc(usage.livekit_participant_minutes)
        self.egress_minutes.inc(usage.egress_minutes)


class CommandTimer(monitoring.CommandListener):
    """MongoDB command durations from pymongo's own command events (a real server only)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Nothing to do: the succeeded or failed event carries the duration."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Time a command that worked."""
        self._observe(event.command_name, "ok", event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Time a command that failed."""
        self._observe(event.command_name, "error", event.duration_micros)

    def _observe(self, command: str, outcome: str, micros: int) -> None:
        # the command names are the driver's own small set
        self._metrics.db_duration.labels(command.lower(), outcome).observe(micros / 1e6)


class HttpMetrics:
    """ASGI middleware: each HTTP request's duration by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[Any]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; WebSockets and lifespan pass straight through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.http_duration.labels(
                scope["method"], self._route(scope), str(status)
            ).observe(time.monotonic() - started)

    def _route(self, scope: Scope) -> str:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", "<unmatched>"))
            if match == Match.PARTIAL and partial is None:
                partial = str(getattr(route, "path", "<unmatched>"))  # method not allowed
        return partial or "<unmatched>"


def _task_count() -> float:
    # read by a scrape, which runs on the loop; anywhere else there is nothing to count
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:
        return 0.0
