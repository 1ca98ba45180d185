"""Access logs without query strings: a URL's query may carry a secret (a ticket, or an old
client's token), and access logs are shipped, kept and screenshotted."""

from __future__ import annotations

import logging

ACCESS_LOGGERS = ("uvicorn.access", "uvicorn.error")


class QueryStringFilter(logging.Filter):
    """Cuts the query string off every path among a log record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path arguments in place; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_strip(a) for a in record.args)
        return True


def _strip(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.split("?", 1)[0] + "?…"
    return arg


def install() -> None:
    """Put the filter on uvicorn's access and error loggers (once)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryStringFilter) for f in logger.filters):
            logger.addFilter(QueryStringFilter())
