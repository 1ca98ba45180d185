"""Logging set up once by the app: one handler on the root logger, text or JSON lines, each
carrying the request id of the HTTP request or WebSocket (live session) it belongs to.

The request id comes from asgi-correlation-id (its middleware sets a context variable that every
task of a request or socket inherits, and its filter copies it onto each record); JSON lines come
from python-json-logger. Both work on the standard `logging` records every library here already
writes (uvicorn, livekit, httpx), so nothing has to be logged twice or through a new API.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from coach import access_log

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "correlation_id", "message")
# uvicorn's own handlers would print its lines a second time and without a request id
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# libraries that narrate every step at INFO
QUIET = ("faster_whisper", "httpx", "httpcore", "hpack", "websockets")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (a test runner swaps it), marked as coach's."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT: `text` for people, `json` (one object a line) for machines."""
    if log_format == "json":
        return JsonFormatter(
            list(JSON_FIELDS),
            # uvicorn repeats its message with terminal colours: not for a log store
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            rename_fields={"asctime": "time", "levelname": "level", "correlation_id": "requestId"},
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str) -> None:
    """Install coach's handler on the root logger, replacing an earlier one (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _Stderr):
            root.removeHandler(h)
    handler = _Stderr()
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    access_log.install()
