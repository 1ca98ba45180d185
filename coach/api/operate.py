"""What operators and their tools call: `/health/live`, `/health/ready` and `/metrics`.

Anonymous callers learn only yes or no per check; why a check failed goes to the log."""

from __future__ import annotations

import asyncio
import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coach.metrics import CONTENT_TYPE

log = logging.getLogger("coach.api.operate")

DB_TIMEOUT = 2.0


async def live(request: Request) -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """Ready for traffic: started, speech models loaded, database reachable, not shutting down."""
    state = request.app.state
    services = getattr(state, "services", None)
    checks = {
        "started": services is not None,
        "models": bool(state.models_ready),
        "database": False,
        "accepting": services is not None
        and not state.shutting_down
        and not services.sessions.closing,
    }
    if services is not None:
        try:
            await asyncio.wait_for(services.db.command("ping"), DB_TIMEOUT)
            checks["database"] = True
        except Exception as e:  # any failure means not ready; the reason is for the log only
            # a warning: probes repeat every few seconds, and errors become Sentry events
            log.warning("readiness: database unreachable: %s", e)
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


async def metrics(request: Request) -> Response:
    """Prometheus' text format; with METRICS_TOKEN set, only for its bearer."""
    app_metrics = request.app.state.metrics
    token = request.app.state.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            return JSONResponse(
                {"error": {"code": "unauthorized", "message": "metrics need the metrics token"}},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    return Response(app_metrics.exposition(), media_type=CONTENT_TYPE)


OPERATE_ROUTES = [
    Route("/health/live", live, methods=["GET"]),
    Route("/health/ready", ready, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
