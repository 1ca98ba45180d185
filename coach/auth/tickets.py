"""Single-use, short-lived WebSocket tickets, so no long-lived credential ever sits in a URL.

Browsers cannot set headers on a WebSocket. Instead of the JWT in `?token=` (which access logs,
proxies and screenshots keep for the token's whole 24 h life), a signed-in client asks
`POST /api/auth/ws-ticket` for a random ticket that opens one socket, once, within 30 s.
Tickets live in this process's memory: behind several instances, route the POST and the socket
to the same one (or keep the socket on the `Authorization` header, as mobile apps do).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

TICKET_SECONDS = 30.0
MAX_OUTSTANDING = 10_000


class TicketBook:
    """Issues tickets and redeems each at most once before it expires."""

    def __init__(
        self,
        ttl: float = TICKET_SECONDS,
        *,
        limit: int = MAX_OUTSTANDING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._limit = limit
        self._clock = clock
        self._open: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def issue(self, user_id: str) -> str:
        """A new ticket for `user_id`."""
        self._prune()
        while len(self._open) >= self._limit:
            self._open.popitem(last=False)  # the oldest unredeemed ticket goes first
        ticket = secrets.token_urlsafe(32)
        self._open[ticket] = (user_id, self._clock() + self.ttl)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The user the ticket was issued to, once; None if unknown, used or expired."""
        found = self._open.pop(ticket, None)
        if found is None or found[1] < self._clock():
            return None
        return found[0]

    def revoke_user(self, user_id: str) -> None:
        """Drop every open ticket of a user (an erased account)."""
        for ticket in [t for t, (u, _) in self._open.items() if u == user_id]:
            del self._open[ticket]

    def _prune(self) -> None:
        now = self._clock()
        while self._open:
            ticket, (_, expires) = next(iter(self._open.items()))
            if expires >= now:
                break
            del self._open[ticket]
