"""The endpointer alone: speech probabilities per chunk in, utterances and signals out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coach.stt.endpointer import (
    CHUNK,
    Began,
    Ended,
    EndpointConfig,
    Endpointer,
    Paused,
    Utterance,
)

RATE = 16000
STEP = CHUNK / RATE  # 32 ms


def run(parts: list[tuple[float, float]], config: EndpointConfig) -> list[object]:
    """Feed (seconds, probability) parts chunk by chunk, then finish."""
    ep = Endpointer(config, RATE)
    out: list[object] = []
    for seconds, p in parts:
        n = round(seconds / STEP)
        ep.add_audio(np.full(n * CHUNK, p, dtype=np.float32))
        for _ in range(n):
            out.extend(ep.feed(np.array([p], dtype=np.float32)))
    out.extend(ep.finish())
    return out


@pytest.mark.parametrize("gap", [0.192, 0.32, 0.512])
def test_a_gap_as_long_as_the_cut_closes_the_utterance_and_a_shorter_one_does_not(
    gap: float,
) -> None:
    config = EndpointConfig(cut_silence=0.3)
    out = run([(0.32, 0.0), (1.0, 0.9), (gap, 0.0), (1.0, 0.9), (1.5, 0.0)], config)
    utterances = [e for e in out if isinstance(e, Utterance)]
    assert len(utterances) == (2 if gap >= config.cut_silence else 1)


def test_speech_signals_come_within_a_chunk_of_the_rule() -> None:
    config = EndpointConfig(cut_silence=0.3, min_speech=0.12)
    out = run([(0.64, 0.0), (1.28, 0.9), (2.0, 0.0)], config)
    began = [e for e in out if isinstance(e, Began)]
    paused = [e for e in out if isinstance(e, Paused)]
    ended = [e for e in out if isinstance(e, Ended)]
    assert [b.at for b in began] == [pytest.approx(0.64, abs=STEP)]
    # the pause is dated where speech stopped, not where the gap was long enough
    assert [p.at for p in paused] == [pytest.approx(1.92, abs=STEP)]
    assert [e.at for e in ended] == [pytest.approx(1.92, abs=STEP)]
    # and the utterance handed over holds the speech with its padding
    (u,) = [e for e in out if isinstance(e, Utterance)]
    assert u.offset == pytest.approx(0.64 - config.pad, abs=STEP)
    assert u.audio.size / RATE == pytest.approx(1.28 + 2 * config.pad, abs=2 * STEP)


def test_a_click_is_neither_speech_nor_an_utterance() -> None:
    out = run([(0.5, 0.0), (0.064, 0.9), (1.5, 0.0)], EndpointConfig())
    assert out == []


def test_long_speech_is_cut_at_the_limit_without_overlap() -> None:
    config = EndpointConfig(max_utterance=2.0)
    out = run([(0.2, 0.0), (5.0, 0.9), (1.5, 0.0)], config)
    utterances = [e for e in out if isinstance(e, Utterance)]
    assert len(utterances) == 3
    for a, b in itertools.pairwise(utterances):
        assert a.offset + a.audio.size / RATE <= b.offset + 1e-9
    assert all(u.audio.size / RATE <= config.max_utterance + config.pad + STEP for u in utterances)


def test_audio_is_trimmed_while_nobody_speaks() -> None:
    ep = Endpointer(EndpointConfig(), RATE)
    for _ in range(1000):
        ep.add_audio(np.zeros(CHUNK, dtype=np.float32))
        ep.feed(np.array([0.0], dtype=np.float32))
    assert ep.audio.size <= int(EndpointConfig().pad * RATE) + 2 * CHUNK
