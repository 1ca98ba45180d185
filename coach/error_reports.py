"""Error tracking with Sentry (`SENTRY_DSN`): unhandled errors of requests, live sessions and
analysis jobs, tagged with the request id, with audio, transcripts and credentials scrubbed
before anything leaves the process."""

from __future__ import annotations

import logging
import re
from typing import Any

import sentry_sdk
from asgi_correlation_id import correlation_id

from coach.settings import Settings

log = logging.getLogger("coach.error_reports")

# keys whose values are the candidate's words or voice, or a credential
_SECRET_KEYS = re.compile(
    r"audio|pcm|frame|transcript|words?$|text|summary|answer|token|ticket|secret|password"
    r"|authorization|cookie|api_?key|dsn|jwt",
    re.IGNORECASE,
)
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)(bearer\s+|token=|ticket=|key=)[^\s&\"']+")
SCRUBBED = "[scrubbed]"


def init(settings: Settings) -> bool:
    """Start Sentry when SENTRY_DSN is set; True if it is on."""
    if settings.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.coach_env,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        # a frame's locals may hold audio, a transcript or a token
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
        before_breadcrumb=_scrub_breadcrumb,
    )
    log.info("error reports go to Sentry (%s)", settings.coach_env)
    return True


def report_error(error: BaseException) -> None:
    """Report a handled error that still means something broke (no-op without Sentry)."""
    if sentry_sdk.is_initialized():
        sentry_sdk.capture_exception(error)


def scrub(event: Any, hint: Any) -> Any:
    """Sentry's before_send: the request id as a tag; no audio, transcript or credential."""
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        if request.get("query_string"):
            request["query_string"] = SCRUBBED
        url = request.get("url")
        if isinstance(url, str) and "?" in url:
            request["url"] = url.split("?", 1)[0]
    return _clean(event)


def _scrub_breadcrumb(crumb: Any, hint: Any) -> Any:
    return _clean(crumb)


def _clean(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key) and key not in _KEEP:
        return SCRUBBED
    if isinstance(value, dict):
        return {k: _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(lambda m: m.group(1) + SCRUBBED, _JWT.sub(SCRUBBED, value))
    return value


# Sentry's own structure keys that match the patterns above but carry no user data
_KEEP = frozenset({"contexts", "frames", "context_line", "pre_context", "post_context"})
