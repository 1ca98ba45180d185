"""Pure: the audio of a reconnecting recognizer stream, and its clock mapped back to the session's.

Audio is tracked by absolute byte position in everything ever pushed. What is sent on a
connection stays until a final result covers it, so a lost connection's unfinished audio is
sent again on the next; each connection's clock starts at zero, and the breakpoints of what it
was sent map its times back onto the session's. Both buffers are bounded: past the bound the
oldest unsent audio is dropped (and counted), the oldest unconfirmed is forgotten; a restart
puts the unconfirmed back in front of the unsent, so at most both bounds together are held.
"""

from __future__ import annotations

import bisect
from collections import deque


class ReplayBuffer:
    """Unsent and unconfirmed audio of one stream, and the current connection's clock."""

    def __init__(self, *, bytes_per_second: int, max_bytes: int) -> None:
        self.bytes_per_second = bytes_per_second
        self.max_bytes = max_bytes
        self._pending: deque[tuple[int, bytes]] = deque()
        self.pending_bytes = 0
        self._next_pos = 0
        # sent on this connection but not yet covered by a final result: replayed on reconnect
        self._unconfirmed: deque[tuple[int, bytes]] = deque()
        self.unconfirmed_bytes = 0
        # breakpoints (local byte, absolute minus local) of the current connection's audio
        self._segment_local: list[int] = [0]
        self._segment_shift: list[int] = [0]
        self._local_pos = 0

    @property
    def buffered_seconds(self) -> float:
        """Audio pushed but not yet sent."""
        return self.pending_bytes / self.bytes_per_second

    def __bool__(self) -> bool:
        return bool(self._pending)

    def push(self, pcm16: bytes) -> int:
        """Queue audio; returns how many bytes of the oldest unsent audio were dropped for it."""
        self._pending.append((self._next_pos, bytes(pcm16)))
        self.pending_bytes += len(pcm16)
        self._next_pos += len(pcm16)
        excess = self.pending_bytes - self.max_bytes
        dropped = 0
        while excess > 0 and self._pending:
            pos, data = self._pending.popleft()
            if len(data) <= excess:
                cut = len(data)
            else:
                cut = excess + (excess & 1)
                self._pending.appendleft((pos + cut, data[cut:]))
            dropped += cut
            excess -= cut
        self.pending_bytes -= dropped
        return dropped

    def take(self) -> tuple[int, bytes] | None:
        """The oldest unsent chunk (position, audio), or None."""
        if not self._pending:
            return None
        pos, data = self._pending.popleft()
        self.pending_bytes -= len(data)
        return pos, data

    def unsend(self, pos: int, data: bytes) -> None:
        """Put back a chunk whose send failed; it goes first."""
        self._pending.appendleft((pos, data))
        self.pending_bytes += len(data)

    def mark_sent(self, pos: int, data: bytes) -> None:
        """A chunk reached the current connection: it advances its clock and awaits a final."""
        shift = pos - self._local_pos
        if self._segment_shift[-1] != shift:
            self._segment_local.append(self._local_pos)
            self._segment_shift.append(shift)
        self._local_pos += len(data)
        self._unconfirmed.append((pos, data))
        self.unconfirmed_bytes += len(data)
        while self.unconfirmed_bytes > self.max_bytes:
            _, old = self._unconfirmed.popleft()
            self.unconfirmed_bytes -= len(old)

    def confirm(self, until: float) -> None:
        """Forget sent audio a final result covers (up to `until`, session seconds)."""
        until_pos = round(until * self.bytes_per_second) & ~1
        while self._unconfirmed:
            pos, data = self._unconfirmed[0]
            if pos + len(data) <= until_pos:
                self._unconfirmed.popleft()
                self.unconfirmed_bytes -= len(data)
            else:
                if pos < until_pos:
                    self._unconfirmed[0] = (until_pos, data[until_pos - pos :])
                    self.unconfirmed_bytes -= until_pos - pos
                break

    def restart(self) -> None:
        """A new connection: unconfirmed audio goes out again first, and its clock starts at 0."""
        while self._unconfirmed:
            chunk = self._unconfirmed.pop()
            self._pending.appendleft(chunk)
            self.pending_bytes += len(chunk[1])
        self.unconfirmed_bytes = 0
        first = self._pending[0][0] if self._pending else self._next_pos
        self._segment_local = [0]
        self._segment_shift = [first]
        self._local_pos = 0

    def to_session_time(self, local_seconds: float) -> float:
        """A time on the current connection's clock, on the session's."""
        local = local_seconds * self.bytes_per_second
        i = max(bisect.bisect_right(self._segment_local, local) - 1, 0)
        return (local + self._segment_shift[i]) / self.bytes_per_second
