"""create_app(settings): wiring and lifespan; `uvicorn coach.app:app` builds settings lazily."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from pymongo.errors import PyMongoError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from coach import error_reports, logs
from coach.analysis.base import Analyzer
from coach.analysis.factory import build_analyzer
from coach.api.errors import ApiError, error_response
from coach.api.live import LIVE_ROUTES
from coach.api.operate import OPERATE_ROUTES
from coach.api.routes import ROUTES
from coach.api.web import WEB_ROUTES
from coach.auth.tickets import TicketBook
from coach.auth.tokens import TokenIssuer
from coach.auth.users import UserService
from coach.collector import freeze_startup, thaw
from coach.encryption import DataKeys, Vault
from coach.file_worker import FileWorker
from coach.interviewer.agent import interview_session, voice_available
from coach.interviewer.factory import build_followups, interviewer_factory
from coach.interviewer.plan import InterviewPlan
from coach.interviews.service import InterviewService, ServiceOptions
from coach.livekit.agent_server import AgentServerOptions, CoachAgentServer
from coach.livekit.egress import EgressRecorder
from coach.livekit.egress_files import EgressFiles
from coach.livekit.jobs import InterviewJobs, VoiceStarter
from coach.livekit.tokens import LiveKitConfig
from coach.loop_lag import LoopLag
from coach.metrics import CommandTimer, HttpMetrics, Metrics
from coach.private_files import private_dir
from coach.ratelimits import RateLimited, RateLimits
from coach.services import Services
from coach.sessions.final_pass import FinalPass
from coach.sessions.manager import SessionLimits, SessionManager
from coach.sessions.session import LiveSession
from coach.sessions.start import SessionStarter
from coach.settings import Settings, load_settings
from coach.speech.accumulator import SpeechConfig
from coach.store.database import close_client, init_store, open_database
from coach.stt.factory import build_final_pass, build_recognizer, close_recognizer
from coach.stt.streaming import StreamingRecognizer

log = logging.getLogger("coach.app")


def create_app(
    settings: Settings,
    *,
    analyzer: Analyzer | None = None,
    database: tuple[Any, Any] | None = None,
    options: ServiceOptions | None = None,
    recognizer: StreamingRecognizer | None = None,
    files: FileWorker | None = None,
) -> Starlette:
    """The app; tests may inject an analyzer, a (client, db) pair, options, a recognizer and
    the file worker."""
    # whoever serves the app (coach serve, uvicorn, a test), it logs the same way: one
    # handler, a request id on every line, never a query string
    logs.configure(settings.log_level, settings.log_format)
    error_reports.init(settings)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        private_dir(settings.data_dir)
        private_dir(settings.recordings_path)
        client, db = (
            database
            if database is not None
            else open_database(settings, listeners=[CommandTimer(metrics)])
        )
        await init_store(db)
        chosen = analyzer if analyzer is not None else build_analyzer(settings, observer=metrics)
        interviews = InterviewService(
            chosen,
            options
            or ServiceOptions(
                lease_seconds=settings.analysis_lease_seconds,
                max_concurrent_analyses=settings.max_concurrent_analyses,
                recovery_interval_seconds=settings.analysis_recovery_interval_seconds,
            ),
            metrics=metrics,
            keys=DataKeys(
                Vault.from_settings(
                    settings.data_encryption_key,
                    settings.data_encryption_old_keys,
                    settings.data_dir,
                )
            ),
        )
        live = (
            recognizer if recognizer is not None else build_recognizer(settings, observer=metrics)
        )
        speech = SpeechConfig(
            pause_threshold=settings.pause_threshold_seconds,
            segment_seconds=settings.pace_segment_seconds,
        )
        full = build_final_pass(settings, live)
        final_pass = FinalPass(full, speech) if full is not None else None
        sessions = SessionManager(
            interviews=interviews,
            recognizer=live,
            speech=speech,
            limits=SessionLimits(
                max_sessions=settings.max_sessions,
                max_sessions_per_user=settings.max_sessions_per_user,
                max_sessions_per_address=settings.max_sessions_per_address,
                max_abandoned_per_user=settings.max_abandoned_sessions_per_user,
                max_abandoned_per_address=settings.max_abandoned_sessions_per_address,
                max_duration_seconds=settings.max_session_minutes * 60,
                max_frame_bytes=settings.max_audio_frame_bytes,
                grace_seconds=settings.session_grace_seconds,
                metrics_interval_seconds=settings.metrics_interval_seconds,
            ),
            recordings_dir=settings.recordings_path,
            retention_days=settings.recording_retention_days,
            final_pass=final_pass,
            files=files,
        )
        followups = build_followups(settings) if analyzer is None else None
        livekit = LiveKitConfig.from_settings(settings) if settings.livekit_url else None
        egress = (
            EgressRecorder(livekit, settings, interviews, observer=metrics)
            if livekit is not None and settings.livekit_egress_filepath
            else None
        )
        sessions.egress = egress
        rate_limits = RateLimits(settings)
        sessions.metrics = metrics
        metrics.watch(metrics.sessions_open, lambda: sessions.live_count)
        metrics.watch(metrics.file_work_pending, lambda: sessions.files.pending)
        lag = LoopLag(observe=metrics.loop_lag.observe)
        lag.start()
        metrics.watch(metrics.loop_lag_longest, lag.recent_longest)
        app.state.loop_lag = lag
        metrics.watch(metrics.analysis_queue, lambda: interviews.queued)
        app.state.services = Services(
            settings=settings,
            client=client,
            db=db,
            analyzer=chosen,
            tokens=TokenIssuer(settings),
            users=UserService(),
            interviews=interviews,
            rate_limits=rate_limits,
            sessions=sessions,
            tickets=TicketBook(),
            interviewer_for=interviewer_factory(followups),
            livekit=livekit,
            egress=egress,
            egress_files=(EgressFiles(settings) if settings.livekit_egress_s3_bucket else None),
        )
        app.state.starter = SessionStarter(app.state.services, observer=metrics)
        await interviews.start()
        await sessions.start()
        freeze_startup()
        warm_up = _warm_up(
            app,
            live if settings.preloads_models else None,
            # the models are start-up too, unless sessions began meanwhile (theirs would be
            # frozen with them)
            idle=lambda: sessions.live_count == 0 and interviews.queued == 0,
        )
        agent_server = (
            CoachAgentServer(
                livekit,
                AgentServerOptions(
                    agent_name=settings.livekit_agent_name,
                    load_threshold=settings.livekit_load_threshold,
                    port=settings.livekit_agent_port,
                    max_sessions=settings.max_sessions,
                    count_cpu=settings.livekit_load_cpu,
                ),
                InterviewJobs(sessions, livekit, voice=voice_starter(settings, livekit)).run,
                lambda: sessions.live_count,
            )
            if livekit is not None and settings.livekit_agent_server
            else None
        )
        app.state.agent_server = agent_server
        if agent_server is not None:
            await agent_server.start()
        try:
            yield
        finally:
            thaw()
            app.state.shutting_down = True
            await lag.aclose()
            warm_up.cancel()
            await asyncio.gather(warm_up, return_exceptions=True)
            if agent_server is not None:
                # first: its jobs end and store their sessions while the store is still up
                await agent_server.aclose()
            # Open sessions are stored first, so their analyses are queued (and, if this
            # process stops before they run, recovered by the next start).
            await sessions.aclose()
            if final_pass is not None:
                await final_pass.aclose()
            await interviews.aclose()
            if recognizer is None:
                await close_recognizer(live)
            if followups is not None:
                await followups.aclose()
            if egress is not None:
                await egress.aclose()
            if analyzer is None:
                await chosen.aclose()
            await rate_limits.aclose()
            if database is None:
                await close_client(client)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message)

    async def rate_limited(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        response = error_response(429, "rate_limited", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = error_response(exc.status_code, "http_error", str(exc.detail))
        # a 405 names the methods the path takes (`Allow`), as RFC 9110 requires
        response.headers.update(exc.headers or {})
        return response

    async def database_down(request: Request, exc: Exception) -> Response:
        log.error("database unavailable on %s: %s", request.url.path, exc)
        return error_response(503, "database_unavailable", "the database is unavailable")

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s: %s", request.url.path, exc)
        error_reports.report_error(exc)
        return error_response(500, "internal_error", "internal error")

    routes = [*ROUTES, *OPERATE_ROUTES, *LIVE_ROUTES, *WEB_ROUTES]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            # outermost: the id is set before anything logs, and every response says it
            Middleware(CorrelationIdMiddleware),
            Middleware(HttpMetrics, metrics=metrics, routes=routes),
        ],
        exception_handlers={
            ApiError: api_error,
            RateLimited: rate_limited,
            HTTPException: http_error,
            PyMongoError: database_down,
            Exception: crash,
        },
    )
    app.state.metrics = metrics
    token = settings.metrics_token
    app.state.metrics_token = token.get_secret_value() if token is not None else None
    app.state.shutting_down = False
    app.state.models_ready = False
    return app


def voice_starter(settings: Settings, livekit: LiveKitConfig) -> VoiceStarter | None:
    """How a LiveKit job starts its voice interviewer, or None without an OpenAI key."""
    if not voice_available(settings):
        return None

    async def start(session: LiveSession, plan: InterviewPlan, room: str) -> Any:
        token = livekit.interviewer_token(room)
        return await interview_session(settings, livekit.url, token, plan, session)

    return start


def _warm_up(
    app: Starlette, recognizer: StreamingRecognizer | None, *, idle: Callable[[], bool]
) -> asyncio.Task[None]:
    """Load the recognizer's models off the loop; /health/ready waits for them."""
    prepare = getattr(recognizer, "prepare", None)
    # nothing to load (Deepgram, a test's recognizer) or not preloading: ready at once
    app.state.models_ready = prepare is None

    async def load() -> None:
        started = time.monotonic()
        try:
            if prepare is not None:
                await asyncio.to_thread(prepare)
                log.info("speech models loaded in %.1f s", time.monotonic() - started)
                if idle():
                    freeze_startup()
        except Exception as e:  # the first session will try again; readiness says no meanwhile
            log.exception("loading the speech models failed: %s", e)
            error_reports.report_error(e)
            return
        app.state.models_ready = True

    return asyncio.create_task(load(), name="models-warm-up")


def create_app_from_env() -> Starlette:
    """Factory for `uvicorn --factory coach.app:create_app_from_env`."""
    return create_app(load_settings())


class _LazyApp:
    """Builds the app from the environment on first use, so importing reads no env."""

    def __init__(self) -> None:
        self._app: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = create_app_from_env()
        await self._app(scope, receive, send)


app = _LazyApp()
