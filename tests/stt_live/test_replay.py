"""The replay buffer alone: bounded, replays what no final covered, maps each connection's clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coach.stt.replay import ReplayBuffer

BPS = 32000  # 16 kHz PCM16


def audio(start: int, size: int) -> bytes:
    """Bytes whose values say where they are, so a replayed chunk can be checked."""
    return bytes((start + i) % 251 for i in range(size))


def test_past_the_bound_the_oldest_unsent_audio_is_dropped() -> None:
    buf = ReplayBuffer(bytes_per_second=BPS, max_bytes=1000)
    assert buf.push(audio(0, 600)) == 0
    assert buf.push(audio(600, 600)) == 200
    assert buf.pending_bytes == 1000
    pos, data = buf.take() or (0, b"")
    assert pos == 200 and data == audio(0, 600)[200:]


def test_a_new_connection_sends_unconfirmed_audio_first_and_maps_its_clock() -> None:
    buf = ReplayBuffer(bytes_per_second=BPS, max_bytes=10 * BPS)
    buf.restart()
    for k in range(4):  # four 0.5 s chunks sent
        buf.push(audio(k * 16000, 16000))
        chunk = buf.take()
        assert chunk is not None
        buf.mark_sent(*chunk)
    buf.confirm(1.0)  # a final covers the first second
    assert buf.to_session_time(1.5) == 1.5
    buf.push(audio(64000, 16000))
    buf.restart()  # the socket dropped
    first = buf.take()
    assert first is not None and first[0] == 32000  # 1.0 s: the first unconfirmed byte
    buf.mark_sent(*first)
    # the new connection's 0 is the session's 1.0 s
    assert buf.to_session_time(0.0) == 1.0
    assert buf.to_session_time(0.25) == 1.25


def test_a_failed_send_goes_back_first() -> None:
    buf = ReplayBuffer(bytes_per_second=BPS, max_bytes=BPS)
    buf.push(audio(0, 100))
    buf.push(audio(100, 100))
    chunk = buf.take()
    assert chunk is not None
    buf.unsend(*chunk)
    assert buf.take() == (0, audio(0, 100))
    assert buf.pending_bytes == 100


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["push", "send", "confirm", "restart"]),
            st.integers(min_value=1, max_value=400),
        ),
        max_size=60,
    )
)
def test_every_byte_sent_maps_back_to_where_it_was_pushed(steps: list[tuple[str, int]]) -> None:
    buf = ReplayBuffer(bytes_per_second=BPS, max_bytes=2000)
    buf.restart()
    pushed = 0
    local = 0  # bytes sent on the current connection
    highest_confirmed = 0.0
    for op, n in steps:
        if op == "push":
            size = n * 2
            buf.push(audio(pushed, size))
            pushed += size
            assert buf.pending_bytes <= 2000
        elif op == "send":
            chunk = buf.take()
            if chunk is None:
                continue
            pos, data = chunk
            # the bytes are the ones pushed at `pos`
            assert data == audio(pos, len(data))
            buf.mark_sent(pos, data)
            # this connection's clock at the chunk's first byte is the chunk's session time
            assert round(buf.to_session_time(local / BPS) * BPS) == pos
            local += len(data)
        elif op == "confirm":
            highest_confirmed = max(highest_confirmed, buf.to_session_time(local / BPS) * n / 400)
            buf.confirm(highest_confirmed)
        else:
            buf.restart()
            local = 0
        # a restart moves unconfirmed audio back in front of the unsent: what is held never
        # exceeds the two bounds together, and the next push trims the unsent to its own
        assert buf.unconfirmed_bytes <= 2000
        assert buf.pending_bytes + buf.unconfirmed_bytes <= 2 * 2000
