"""Whisper asked where a hesitation fits: its own words forced through the decoder with one
"um" or "uh" put between two of them, scored against the words as it wrote them.

Whisper's decoder knows hesitation tokens, but it was trained on transcripts that tidied them
away, so its search leaves them out. Forced along its own words with a hesitation inserted at
one word boundary, the decoder says how much likelier or less likely (log-probability) the
words become with it there: where the audio holds one, they lose much less than elsewhere.

Each boundary asked about is scored on the encoder's output of the transcription itself (no
second encoding) cut to a few seconds around it, with the words heard in those seconds: the
decoder's cost grows with the frames and tokens it attends to, and one boundary needs only its
neighbourhood. All boundaries of a chunk go in one batched `align` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.audio.filled_pauses import Slot

# Whisper's encoder frames, 20 ms each
FRAME_SECONDS = 0.02
# seconds of audio either side of a boundary the decoder hears: the words around a filler
# are what it fits or not (measured on the hard clips: 1 s told fillers apart worse, 2.5 s no
# better at twice the cost)
HALF_WINDOW = 1.5
_SENTENCE_END = (".", "?", "!")
# written mid-sentence and after a sentence's end
FORMS = (("um", " um", " Um"), ("uh", " uh", " Uh"))


@dataclass(frozen=True, slots=True)
class Form:
    """One way to write a hesitation: its label and its tokens mid-sentence and capitalised."""

    label: str
    mid: tuple[int, ...]
    initial: tuple[int, ...]


def forms(tokenizer: Any) -> list[Form]:
    """The hesitations "um" and "uh" as `tokenizer`'s tokens (faster-whisper's Tokenizer)."""
    return [
        Form(label, tuple(tokenizer.encode(mid)), tuple(tokenizer.encode(initial)))
        for label, mid, initial in FORMS
    ]


def word_token_starts(tokenizer: Any, tokens: Sequence[int], words: Sequence[Any]) -> list[int]:
    """For each word (faster-whisper's: its text keeps its leading space), the index of its
    first token, or -1 where the words and the tokens do not line up."""
    starts_at: dict[int, int] = {}
    pieces = []
    chars = 0
    for i, t in enumerate(tokens):
        starts_at.setdefault(chars, i)
        pieces.append(tokenizer.decode([t]))
        chars += len(pieces[-1])
    text = "".join(pieces)
    out = []
    chars = 0
    for w in words:
        same = text[chars : chars + len(w.word)] == w.word
        out.append(starts_at.get(chars, -1) if same else -1)
        chars += len(w.word)
    return out


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one encoding of a window was decoded to: the encoder's output and the segments."""

    encoder_output: Any
    segments: tuple[Any, ...]
    # where the encoding starts, in seconds of the file
    start: float
    offset: float


def score_boundaries(
    model: Any,
    tokenizer: Any,
    hesitations: Sequence[Form],
    chunk: Chunk,
    wanted: dict[float, str],
    half_window: float = HALF_WINDOW,
) -> list[Slot]:
    """The gain of a hesitation before each word of `chunk` whose start (seconds of the file,
    rounded to the millisecond) is in `wanted`, which says which hesitation ("um" or "uh");
    `hesitations` are their tokens (`forms`, once per tokenizer)."""
    import ctranslate2

    tokens = [t for s in chunk.segments for t in s.tokens if t < tokenizer.eot]
    words = [w for s in chunk.segments for w in (s.words or ())]
    ks = [k for k, w in enumerate(words) if round(chunk.offset + float(w.start), 3) in wanted]
    if not tokens or not ks:
        return []
    starts = word_token_starts(tokenizer, tokens, words)
    encoded = np.asarray(chunk.encoder_output)[0]
    frames = min(encoded.shape[0], round(2 * half_window / FRAME_SECONDS))
    feats: list[np.ndarray] = []
    seqs: list[list[int]] = []
    # (word index, index of the sequence without the hesitation, the form inserted or None)
    where: list[tuple[int, int, Form | None]] = []
    for k in ks:
        i = starts[k]
        if i < 0:
            continue
        at = float(words[k].start) + chunk.offset - chunk.start
        lo = int(max(0, min(encoded.shape[0] - frames, round((at - half_window) / FRAME_SECONDS))))
        a, b = lo * FRAME_SECONDS, (lo + frames) * FRAME_SECONDS
        inside = [
            j
            for j, w in enumerate(words)
            if starts[j] >= 0
            and a <= (float(w.start) + float(w.end)) / 2 + chunk.offset - chunk.start < b
        ]
        if k not in inside:
            continue
        first, last = inside[0], inside[-1]
        end = starts[last + 1] if last + 1 < len(words) and starts[last + 1] >= 0 else len(tokens)
        local = tokens[starts[first] : end]
        cut = i - starts[first]
        initial = i == 0 or tokenizer.decode(tokens[:i]).rstrip().endswith(_SENTENCE_END)
        window = encoded[lo : lo + frames]
        base = len(seqs)
        seqs.append(local)
        feats.append(window)
        where.append((k, base, None))
        for form in hesitations:
            if form.label != wanted[round(chunk.offset + float(words[k].start), 3)]:
                continue  # the vowel heard says which; asking both costs half as much again
            seqs.append([*local[:cut], *(form.initial if initial else form.mid), *local[cut:]])
            feats.append(window)
            where.append((k, base, form))
    if not seqs:
        return []
    batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack(feats)))
    results = model.align(batch, tokenizer.sot_sequence, seqs, frames, median_filter_width=7)
    scores = [float(np.sum(np.log(np.maximum(r.text_token_probs, 1e-12)))) for r in results]
    best: dict[int, tuple[float, str]] = {}
    for n, (k, base, inserted) in enumerate(where):
        if inserted is not None:
            gain = scores[n] - scores[base]
            if k not in best or gain > best[k][0]:
                best[k] = (gain, inserted.label)
    return [
        Slot(
            start=round(chunk.offset + float(words[k - 1].end if k else words[k].start), 3),
            end=round(chunk.offset + float(words[k].start), 3),
            gain=round(gain, 3),
            label=label,
        )
        for k, (gain, label) in sorted(best.items())
    ]
