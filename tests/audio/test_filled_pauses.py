"""The filled-pause detector's pure steps on synthetic contours, and its fusion with words."""

from __future__ import annotations

import wave
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.audio.filled_pauses import (
    AUDIO,
    DOUBTED,
    FOREIGN,
    GAP,
    LOW_PROBABILITY,
    OVERLONG,
    OWN_VOWEL,
    SECONDS_PER_PHONE,
    SURE,
    FilledPause,
    SpeakerVowel,
    excess_seconds,
    explain,
    explain_own_vowel,
    fuse,
    fuse_own_vowel,
    hearing_fillers,
    holds_stressed_central_vowel,
    learn_speaker_vowel,
    level_stretches,
    seconds_per_phone,
    share_stretch,
    steady_vowels,
    vowel_core,
    vowel_cores,
)
from coach.speech.lexicon import load_lexicon
from coach.speech.words import Word
from tests.paths import FIXTURES

HESITATIONS = load_lexicon().hesitations
STEP = 0.01


def contour(*pieces: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Times and f0 from (seconds, Hz) pieces; 0 Hz is unvoiced."""
    f0 = np.concatenate([np.full(round(s / STEP), hz) for s, hz in pieces])
    return np.arange(f0.size) * STEP, f0


def test_a_level_voiced_stretch_is_found_with_its_times() -> None:
    times, f0 = contour((0.2, 0), (0.3, 110), (0.2, 0))
    [s] = level_stretches(times, f0)
    assert s.start == pytest.approx(0.2) and s.end == pytest.approx(0.5)
    assert s.f0 == pytest.approx(110)


def test_gliding_pitch_is_not_a_filled_pause() -> None:
    # a rise of 6 semitones over 300 ms: intonation on a word, never level for 150 ms
    times = np.arange(30) * STEP
    f0 = 110 * 2 ** (np.linspace(0, 6, 30) / 12)
    assert all(s.seconds < 0.15 for s in level_stretches(times, f0))


@pytest.mark.parametrize("seconds", [0.03, 0.06])
def test_short_voicing_is_not_a_filled_pause(seconds: float) -> None:
    times, f0 = contour((0.1, 0), (seconds, 120), (0.1, 0))
    assert level_stretches(times, f0) == []


def test_a_long_stretch_is_cut_at_the_longest_filled_pause() -> None:
    times, f0 = contour((2.0, 120))
    assert all(s.seconds <= 1.0 + 1e-9 for s in level_stretches(times, f0))


def steady(n: int, f1: float, f2: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, f1), np.full(n, f2)


def test_a_central_vowel_is_a_core_and_a_quieter_voiced_tail_makes_it_um() -> None:
    f1, f2 = steady(20, 600.0, 1300.0)
    f1[12:], f2[12:] = np.nan, np.nan  # the nasal murmur: formants lost, voicing kept
    db = np.array([75.0] * 12 + [68.0] * 8)
    assert vowel_core(f1, f2, db, f0=110.0) == (0, 12, True)


def test_a_vowel_that_stays_loud_is_uh() -> None:
    f1, f2 = steady(20, 600.0, 1300.0)
    core = vowel_core(f1, f2, np.full(20, 75.0), f0=110.0)
    assert core is not None and core[2] is False


@pytest.mark.parametrize(
    ("f1", "f2"),
    [(300.0, 2300.0), (750.0, 2000.0), (350.0, 800.0)],
    ids=["ee", "ae", "oo"],
)
def test_a_peripheral_vowel_is_not_a_filled_pause(f1: float, f2: float) -> None:
    a, b = steady(20, f1, f2)
    assert vowel_core(a, b, np.full(20, 75.0), f0=110.0) is None


def test_a_moving_envelope_is_not_a_filled_pause() -> None:
    # a diphthong: F2 sweeping 15 % a frame never holds still for 60 ms
    f1 = np.full(20, 600.0)
    f2 = 1000.0 * 1.15 ** (np.arange(20) % 3)
    assert vowel_core(f1, f2, np.full(20, 75.0), f0=110.0) is None


@pytest.mark.parametrize(
    ("gap", "cores"),
    [
        (8, [(0, 10, False), (18, 28, True)]),  # a word's vowel, a consonant, then "um"
        (0, [(0, 20, True)]),  # one vowel held on, then its murmur: one core
    ],
    ids=["two-vowels", "one-vowel"],
)
def test_each_steady_central_vowel_in_a_stretch_is_a_core(
    gap: int, cores: list[tuple[int, int, bool]]
) -> None:
    # pitch stays level over "comes in I um": the word's vowel and the filler share a stretch
    f1 = np.concatenate([np.full(10, 600.0), np.full(gap, 320.0), np.full(10, 610.0)])
    f2 = np.concatenate([np.full(10, 1300.0), np.full(gap, 2200.0), np.full(10, 1310.0)])
    f1, f2 = np.append(f1, [np.nan] * 6), np.append(f2, [np.nan] * 6)
    db = np.concatenate([np.full(10 + gap + 10, 75.0), np.full(6, 68.0)])
    db[10 : 10 + gap] = 75.0
    assert vowel_cores(f1, f2, db, f0=110.0) == cores
    # the longest alone is what `vowel_core` gives
    longest = max(cores, key=lambda c: c[1] - c[0])
    assert vowel_core(f1, f2, db, f0=110.0) == longest


def test_a_vowel_too_short_is_no_core_though_another_in_the_stretch_is() -> None:
    f1 = np.concatenate([np.full(4, 600.0), np.full(5, 320.0), np.full(8, 600.0)])
    f2 = np.concatenate([np.full(4, 1300.0), np.full(5, 2200.0), np.full(8, 1300.0)])
    assert vowel_cores(f1, f2, np.full(17, 75.0), f0=110.0) == [(9, 17, False)]


@pytest.mark.parametrize(
    ("vowels", "spans"),
    [
        ([(10.75, 10.86)], [(10.74, 11.72)]),  # one vowel: the whole stretch
        ([(10.75, 10.86), (11.25, 11.35)], [(10.74, 11.055), (11.055, 11.72)]),
        ([], []),
    ],
    ids=["one", "two", "none"],
)
def test_vowels_sharing_a_stretch_split_it_halfway_between_them(
    vowels: list[tuple[float, float]], spans: list[tuple[float, float]]
) -> None:
    out = share_stretch(10.74, 11.72, vowels)
    assert out == [pytest.approx(s) for s in spans]


@given(st.lists(st.floats(0.0, 1.0), min_size=0, max_size=12).map(sorted))
def test_shared_spans_tile_the_stretch_and_hold_their_vowels(edges: list[float]) -> None:
    vowels = list(zip(edges[::2], edges[1::2], strict=False))
    spans = share_stretch(0.0, 1.0, vowels)
    assert len(spans) == len(vowels)
    for (lo, hi), (a, b) in zip(spans, vowels, strict=True):
        assert lo <= a + 1e-9 and b <= hi + 1e-9
    assert all(p[1] == q[0] for p, q in pairwise(spans))
    if spans:
        assert spans[0][0] == 0.0 and spans[-1][1] == 1.0


def test_a_higher_voice_has_its_central_vowel_higher() -> None:
    a, b = steady(20, 700.0, 1600.0)
    assert vowel_core(a, b, np.full(20, 75.0), f0=110.0) is None
    assert vowel_core(a, b, np.full(20, 75.0), f0=220.0) is not None


def w(word: str, start: float, end: float, p: float = 0.95) -> Word:
    return Word(word, start, end, p, word)


UM = FilledPause(
    start=1.0, end=1.4, label="um", f1=600.0, f2=1300.0, vowel_start=1.05, vowel_end=1.25
)
# words that can be said with a central vowel, as the CMU dictionary has them
CENTRAL = {"a", "the", "something", "so", "um", "but", "your"}


def holds(word: str) -> bool:
    return word in CENTRAL


def fused(words: list[Word]) -> list[Word]:
    return fuse(words, [UM], HESITATIONS, holds)


def test_a_doubtful_stretched_sound_alike_becomes_the_filler() -> None:
    words = [w("so", 0.5, 0.9), w("a", 0.95, 1.45, p=0.4), w("team", 1.5, 1.8)]
    out = fused(words)
    assert [x.word for x in out] == ["so", "um", "team"]
    assert out[1].source == AUDIO and out[1].start == pytest.approx(0.95)


def test_a_doubtful_function_word_keeps_its_place_after_the_filler() -> None:
    words = [w("built", 0.5, 0.95), w("the", 0.96, 1.6, p=0.3), w("export", 1.6, 2.0)]
    out = fused(words)
    assert [x.word for x in out] == ["built", "um", "the", "export"]
    assert out[1].end <= out[2].start
    assert [x.start for x in out] == sorted(x.start for x in out)


@pytest.mark.parametrize(
    "word",
    [
        w("a", 0.95, 1.45, p=0.95),  # Whisper is sure
        w("a", 1.0, 1.1, p=0.3),  # short: an article said as usual
        w("something", 0.9, 1.5, p=0.3),  # a content word's own vowel
    ],
    ids=["sure", "short", "content-word"],
)
def test_a_word_whisper_does_not_doubt_is_left_alone(word: Word) -> None:
    assert fused([word]) == [word]


def test_a_filler_the_recognizer_wrote_is_never_counted_twice() -> None:
    words = [w("i", 0.6, 0.9), w("um", 0.95, 1.4, p=0.3), w("wanted", 1.5, 1.9)]
    assert fused(words) == words


@pytest.mark.parametrize(
    "words",
    [
        # a slowed "uhhh" Whisper timed shorter than it was held: the vowel runs on after it
        [w("i", 0.2, 0.5), w("uh", 0.55, 0.9, p=0.4), w("keep", 2.0, 2.3)],
        # ... or Whisper timed the hesitation late, after the vowel it begins with
        [w("i", 0.2, 0.5), w("um", 1.5, 1.8, p=0.4), w("keep", 2.0, 2.3)],
    ],
    ids=["held-after", "held-before"],
)
def test_a_vowel_running_on_from_a_written_hesitation_is_that_one(words: list[Word]) -> None:
    assert fused(words) == words


@pytest.mark.parametrize("gap", [0.31, 0.4])
def test_a_vowel_a_breath_away_from_a_written_hesitation_is_another(gap: float) -> None:
    # the same "uh" twice, with a word or a breath between, is said twice
    words = [w("i", 0.2, 0.5), w("uh", 0.6, UM.vowel_start - gap, p=0.4), w("keep", 2.0, 2.3)]
    assert [x.word for x in fused(words)] == ["i", "uh", "um", "keep"]
    with_word = [*words[:2], w("i", UM.vowel_start - gap + 0.01, UM.vowel_start - 0.2), words[2]]
    assert [x.word for x in fused(with_word)] == ["i", "uh", "i", "um", "keep"]


def test_a_vowel_in_a_gap_no_word_explains_is_a_filler() -> None:
    words = [w("i", 0.2, 0.5), w("keep", 2.0, 2.3)]
    assert [x.word for x in fused(words)] == ["i", "um", "keep"]


def test_a_vowel_next_to_a_word_that_holds_one_adds_nothing() -> None:
    # Whisper's times are a little off: "so" may own the vowel just after it
    words = [w("so", 0.6, 0.98), w("keep", 2.0, 2.3)]
    assert fused(words) == words


@pytest.mark.parametrize(
    ("i_start", "i_end", "order"),
    [(1.0, 1.6, ["um", "i", "keep"]), (0.7, 1.3, ["i", "um", "keep"])],
    ids=["vowel-before-its-middle", "vowel-after-it"],
)
def test_a_vowel_the_word_over_it_cannot_hold_goes_on_its_side(
    i_start: float, i_end: float, order: list[str]
) -> None:
    # "I" has no central vowel: Whisper was sure of it, yet the schwa was not its own
    words = [w("i", i_start, i_end), w("keep", 1.7, 2.0)]
    out = fused(words)
    assert [x.word for x in out] == order
    assert [x.start for x in out] == sorted(x.start for x in out)


def test_the_speakers_pace_is_measured_over_the_words_whisper_was_sure_of() -> None:
    # "built" (4 phones), "search" (3), "service" (5): 1.2 s for 12 phones; "a" is doubted
    words = [w("built", 0.0, 0.4), w("a", 0.4, 1.2, p=0.4), w("search", 1.2, 1.5)]
    words.append(w("service", 1.5, 2.0))
    assert seconds_per_phone(words) == pytest.approx(1.2 / 12)


def test_too_few_sure_words_give_the_usual_pace() -> None:
    assert seconds_per_phone([w("a", 0.0, 0.8, p=0.3), w("team", 0.8, 1.0)]) == SECONDS_PER_PHONE


@pytest.mark.parametrize(
    ("word", "excess"),
    [
        (w("i", 0.0, 0.5), 0.4),  # one phone at 0.1 s: 0.4 s more than "I" takes
        (w("service", 0.0, 0.5), 0.0),  # five phones: as long as it should be
        (Word("role", 0.0, 0.8, 0.9, "role,"), 0.0),  # lengthened before its comma
        (w("120", 0.0, 0.9), 0.0),  # not in the dictionary: no length to compare with
    ],
    ids=["overlong", "usual", "clause-end", "unknown"],
)
def test_a_words_excess_is_over_its_phones_at_the_speakers_pace(word: Word, excess: float) -> None:
    assert excess_seconds(word, 0.1) == pytest.approx(excess)


def pause(vowel_seconds: float) -> FilledPause:
    return FilledPause(1.0, 1.0 + vowel_seconds, "uh", 600.0, 1300.0, 1.0, 1.0 + vowel_seconds)


@pytest.mark.parametrize(
    ("word", "vowel", "cue"),
    [
        (None, 0.12, GAP),
        (w("keep", 0.9, 1.2, p=0.7), 0.09, FOREIGN),
        (w("keep", 0.9, 1.2, p=0.99), 0.12, FOREIGN),  # sure, but the vowel is too long for it
        (w("with", 0.9, 1.2, p=0.99), 0.08, None),  # sure: the short vowel is its own
        (w("your", 0.8, 1.7, p=0.83), 0.12, OVERLONG),  # "um, your" heard as one 0.9 s word
        (w("your", 0.8, 1.7, p=0.99), 0.12, None),  # Whisper was sure of the long word
        (w("the", 0.9, 1.25, p=0.3), 0.1, DOUBTED),
        (w("the", 0.95, 1.1, p=0.3), 0.1, None),  # an article said at its usual length
        (w("but", 0.9, 1.2, p=0.9), 0.15, None),  # a word's own central vowel
    ],
    ids=[
        "gap",
        "foreign",
        "foreign-long",
        "sure-word",
        "overlong",
        "sure-overlong",
        "doubted",
        "doubted-short",
        "own-vowel",
    ],
)
def test_each_cue_fires_only_where_the_words_leave_the_vowel_out(
    word: Word | None, vowel: float, cue: str | None
) -> None:
    near = [] if word is None else [word]
    assert explain(pause(vowel), near, word, 0.1, holds) == cue


TOKENS = ["i", "the", "a", "am", "keep", "your", "um", "something", "so"]


@st.composite
def transcripts(draw: st.DrawFn) -> tuple[list[Word], list[FilledPause]]:
    t, words = 0.0, []
    for token in draw(st.lists(st.sampled_from(TOKENS), max_size=8)):
        t += draw(st.sampled_from([0.0, 0.1, 0.4]))
        d = draw(st.floats(0.05, 1.0))
        words.append(w(token, round(t, 2), round(t + d, 2), p=draw(st.floats(0.0, 1.0))))
        t += d
    heard = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.floats(0.0, t + 0.5))
        v = draw(st.floats(0.06, 0.4))
        heard.append(FilledPause(round(a, 2), round(a + v, 2), "um", 600.0, 1300.0, a, a + v))
    return words, heard


@settings(max_examples=200, deadline=None)
@given(transcripts())
def test_fusing_keeps_every_other_word_and_the_time_order(
    case: tuple[list[Word], list[FilledPause]],
) -> None:
    words, heard = case
    out = fuse(words, heard, HESITATIONS, holds)
    kept = [x.word for x in out if x.source != AUDIO]
    # only sound-alikes are replaced; every other word Whisper wrote stays, in its order
    assert [x for x in kept if x not in {"a", "am"}] == [
        x.word for x in words if x.word not in {"a", "am"}
    ]
    assert len(out) <= len(words) + len(heard)
    assert [x.start for x in out] == sorted(x.start for x in out)


# A West Midlands "uh": a back vowel (F1 510, F2 990 Hz) far outside the central region.
BACK_UH = SpeakerVowel(((510.0, 990.0),))


def vowel(f1: float, f2: float, at: float = 1.0, seconds: float = 0.1) -> FilledPause:
    return FilledPause(at, at + seconds, "uh", f1, f2, at, at + seconds, central=False)


@pytest.mark.parametrize(
    ("f1", "f2", "same"),
    [
        (505.0, 1003.0, True),  # another token of the same "uh"
        (540.0, 1020.0, True),  # within a speaker's spread
        (610.0, 995.0, False),  # F1 18 % higher: a more open vowel ("on")
        (505.0, 1100.0, False),  # F2 10 % higher: a more central vowel
        (300.0, 2200.0, False),  # an /i/
    ],
)
def test_a_vowel_is_the_speakers_own_filler_only_within_their_spread(
    f1: float, f2: float, same: bool
) -> None:
    assert BACK_UH.matches(vowel(f1, f2)) is same


def test_the_speakers_vowel_is_learned_from_the_hesitations_heard() -> None:
    vowels = [vowel(508.0, 985.0, at=4.9), vowel(300.0, 2200.0, at=6.0)]
    words = [w("we", 4.5, 4.8), w("um", 4.84, 5.0, p=0.4), w("team", 5.9, 6.2)]
    speaker = learn_speaker_vowel(vowels, words, HESITATIONS)
    assert speaker == SpeakerVowel(((508.0, 985.0),))


def test_a_filler_heard_from_the_audio_gives_the_vowel_it_was_heard_from() -> None:
    # `fuse` fitted the filler between "on" and "the", off the vowel Whisper put inside "on"
    heard = replace(vowel(673.0, 1494.0, at=3.60, seconds=0.09), central=True)
    vowels = [vowel(602.0, 1146.0, at=3.41, seconds=0.06), heard]
    words = [w("on", 3.5, 3.72, p=0.56), filler(3.72, 3.77), w("the", 3.77, 3.88)]
    assert learn_speaker_vowel(vowels, words, HESITATIONS) == SpeakerVowel(((673.0, 1494.0),))


def test_a_front_vowel_under_a_hesitation_is_not_the_speakers_filler() -> None:
    # "small thing, but it uh": `fuse` stretched the "uh" back over the end of "thing"
    vowels = [vowel(368.0, 2057.0, at=17.1, seconds=0.2), vowel(555.0, 1425.0, at=17.4)]
    words = [w("thing", 16.82, 17.14), filler(17.14, 17.49), w("but", 17.49, 17.54)]
    assert learn_speaker_vowel(vowels, words, HESITATIONS) == SpeakerVowel(((555.0, 1425.0),))
    assert learn_speaker_vowel(vowels[:1], words, HESITATIONS) is None


def filler(start: float, end: float) -> Word:
    return Word("um", start, end, 1.0, "um", source=AUDIO)


def test_no_hesitation_heard_learns_nothing() -> None:
    vowels = [vowel(508.0, 985.0, at=4.9)]
    assert learn_speaker_vowel(vowels, [w("we", 4.5, 5.0)], HESITATIONS) is None


@pytest.mark.parametrize(
    ("word", "f1", "cue"),
    [
        (None, 510.0, OWN_VOWEL),  # in a gap no word near can fill
        (w("how", 0.95, 1.12, p=0.11), 510.0, OWN_VOWEL),  # "like uh the" heard "like how the"
        (w("or", 0.95, 1.12, p=0.62), 510.0, OWN_VOWEL),  # "then, uh, I" heard "then or"
        (w("or", 0.95, 1.12, p=0.62), 620.0, None),  # not the speaker's filler vowel
        (w("or", 0.95, 1.12, p=0.99), 510.0, None),  # a word Whisper heard plainly
        (w("something", 0.95, 1.3, p=0.3), 510.0, None),  # a word that says that vowel stressed
        # "shipped uh a migration" heard as "ship to the migration": a function word is said
        # weak, though the dictionary also has it stressed ("the" as /ðʌ/)
        (w("the", 0.95, 1.12, p=0.47), 510.0, OWN_VOWEL),
    ],
    ids=["gap", "doubted", "sound-alike", "other-vowel", "sure", "own-vowel", "function-word"],
)
def test_the_speakers_own_vowel_is_a_filler_only_where_the_words_leave_it_out(
    word: Word | None, f1: float, cue: str | None
) -> None:
    near = [] if word is None else [word]
    assert explain_own_vowel(vowel(f1, 995.0), near, word, BACK_UH, holds) == cue


# "to" and "or" say a central vowel only in their weak forms (/tə/, /ər/), "don't" only as the
# onset of /əʊ/; "come" says it stressed
WEAK = {"to", "or", "don't"}


@pytest.mark.parametrize(
    ("word", "cue"),
    [
        (w("to", 0.95, 1.12, p=0.58), OWN_VOWEL),  # "replaced uh a" heard "replace to a"
        (w("don't", 0.95, 1.15, p=0.59), OWN_VOWEL),  # "I um move" heard "I don't move"
        (w("to", 0.95, 1.12, p=0.8), None),  # Whisper trusted its weak form
        (w("come", 0.95, 1.15, p=0.3), None),  # a stressed central vowel is its own
        (w("a", 0.95, 1.1, p=0.4), None),  # an article said plainly: the filler's own vowel
    ],
    ids=["weak-doubted", "glide-doubted", "weak-trusted", "stressed", "sound-alike"],
)
def test_a_word_with_the_vowel_only_in_a_weak_form_owns_it_unless_doubted(
    word: Word, cue: str | None
) -> None:
    def may_hold(x: str) -> bool:
        return x in WEAK or x in {"come", "a"}

    def stressed(x: str) -> bool:
        return x == "come"

    fp = vowel(510.0, 995.0)
    assert explain_own_vowel(fp, [word], word, BACK_UH, may_hold, stressed) == cue


@pytest.mark.parametrize(
    ("seconds", "p", "cue"),
    [
        (0.11, 0.62, OWN_VOWEL),  # "then, uh, I" heard as "then or" (/ər/, 1 phone: 0.07 s)
        (0.06, 0.62, None),  # short enough to be the word's weak /ə/
        (0.11, 0.97, None),  # Whisper was sure of the word
    ],
    ids=["long", "short", "sure"],
)
def test_a_weak_form_does_not_own_a_vowel_longer_than_the_whole_word_takes(
    seconds: float, p: float, cue: str | None
) -> None:
    word = w("or", 0.95, 1.12, p=p)
    fp = vowel(510.0, 995.0, at=0.98, seconds=seconds)
    got = explain_own_vowel(fp, [word], word, BACK_UH, lambda x: x == "or", lambda _: False, 0.07)
    assert got == cue


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["to", "or", "don't", "a", "come", "keep"]),
    st.floats(0.0, 1.0),
    st.booleans(),
    st.booleans(),
)
def test_the_weak_form_rule_only_ever_adds_a_filler_inside_a_word_whisper_doubted(
    token: str, p: float, holds_it: bool, stressed_it: bool
) -> None:
    word = w(token, 0.95, 1.15, p=p)
    fp = vowel(510.0, 995.0)

    def may_hold(_: str) -> bool:
        return holds_it

    def stressed(_: str) -> bool:
        return stressed_it

    cue = explain_own_vowel(fp, [word], word, BACK_UH, may_hold, stressed)
    before = explain_own_vowel(fp, [word], word, BACK_UH, may_hold, lambda _: True)
    # it never takes a filler away, and adds one only in a word Whisper was not sure of that
    # can hold the vowel weakly: doubted, or the vowel outlasts the word (0.1 s: "or", /ər/)
    if before is not None:
        assert cue == before
    if cue != before:
        assert not stressed_it and token != "a"
        assert p < LOW_PROBABILITY or (p < SURE and token == "or")


@pytest.mark.parametrize(
    ("word", "stressed"),
    [
        ("come", True),
        ("bird", True),
        ("to", False),  # T UW1, T IH0, T AH0: central only when weak
        ("or", False),  # AO1 R, ER0
        ("don't", False),  # D OW1 N T: the glide is not counted
        ("zqxwv", True),  # unknown: it may
    ],
)
def test_the_dictionary_says_which_words_hold_a_stressed_central_vowel(
    word: str, stressed: bool
) -> None:
    assert holds_stressed_central_vowel(word) is stressed


def test_a_filler_after_a_words_vowel_on_the_same_level_pitch_is_heard_apart() -> None:
    # us-m-nocomma.wav, "comes in I um move": one level stretch from "comes" (10.74 s) to
    # "move"; the "um" (about 11.25 to 11.35 s) is found beside the vowel of "comes"
    audio = clip("us-m-nocomma", 12.0)[160000:]
    vowels = [v for v in steady_vowels(audio, 10.0) if v.central]
    assert any(11.2 <= v.vowel_start <= 11.3 and v.label == "um" for v in vowels), vowels
    assert [v.start for v in vowels] == sorted(v.start for v in vowels)


def test_the_vowel_is_judged_by_the_word_it_is_in_not_the_stretchs_longest() -> None:
    # the level stretch runs from the end of "comes", whose own vowel it is, into "in"
    fp = replace(vowel(510.0, 990.0, at=10.74, seconds=0.11), end=11.7)
    words = [w("comes", 10.4, 10.84, p=0.99), w("in", 10.84, 11.14, p=0.74)]
    assert explain_own_vowel(fp, words, words[1], BACK_UH, holds) is None


def test_the_second_look_adds_the_speakers_filler_beside_a_doubted_word() -> None:
    words = [w("like", 0.1, 0.3), w("how", 0.3, 0.44, p=0.11), w("the", 0.44, 0.58)]
    out = fuse_own_vowel(words, [vowel(505.0, 1003.0, at=0.33, seconds=0.06)], BACK_UH, HESITATIONS)
    assert [x.word for x in out] == ["like", "uh", "how", "the"]
    assert out[1].source == AUDIO


@settings(max_examples=200, deadline=None)
@given(transcripts(), st.sampled_from([(600.0, 1300.0), (510.0, 990.0)]))
def test_a_second_look_adds_only_the_speakers_vowel_and_keeps_the_words(
    case: tuple[list[Word], list[FilledPause]], anchor: tuple[float, float]
) -> None:
    words, heard = case
    speaker = SpeakerVowel((anchor,))
    out = fuse_own_vowel(words, heard, speaker, HESITATIONS, holds)
    kept = [x.word for x in out if x.source != AUDIO]
    assert [x for x in kept if x not in {"a", "am"}] == [
        x.word for x in words if x.word not in {"a", "am"}
    ]
    assert [x.start for x in out] == sorted(x.start for x in out)
    # a vowel unlike the speaker's own filler never becomes one
    if not any(speaker.matches(h) for h in heard):
        assert out == words


def clip(name: str, seconds: float) -> np.ndarray:
    with wave.open(str(FIXTURES / "fillers" / f"{name}.wav")) as f:
        pcm = np.frombuffer(f.readframes(int(16000 * seconds)), np.int16)
    return pcm.astype(np.float32) / 32768


# What Whisper base heard in the first sentence of us-m-nocomma.wav ("So now I um keep a
# simple list"): the "um" written as a confident "am".
HEARD = [
    Word("so", 0.0, 0.18, 0.82, "So"),
    Word("now", 0.18, 0.40, 0.77, "now"),
    Word("i", 0.40, 0.58, 0.91, "I"),
    Word("am", 0.58, 0.78, 0.94, "am"),
    Word("keep", 0.78, 1.00, 0.60, "keep"),
    Word("a", 1.00, 1.26, 0.96, "a"),
    Word("simple", 1.26, 1.60, 0.85, "simple"),
    Word("list", 1.60, 1.94, 0.95, "list"),
]


def test_a_live_utterance_gets_the_um_whisper_wrote_as_am() -> None:
    listen = hearing_fillers(lambda audio, offset: [replace(w) for w in HEARD])
    out = listen(clip("us-m-nocomma", 2.0), 0.0)
    assert [x.word for x in out] == ["so", "now", "i", "um", "keep", "a", "simple", "list"]
    assert out[3].source == AUDIO and 0.4 <= out[3].start <= 0.8


def test_an_utterance_with_no_words_is_not_analysed() -> None:
    listen = hearing_fillers(lambda audio, offset: [])
    assert listen(clip("us-m-nocomma", 2.0), 0.0) == []


def test_the_pronunciation_table_is_built_once_for_threads_fusing_together() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from coach.audio import filled_pauses

    filled_pauses._central_vowel_table.cache_clear()
    with ThreadPoolExecutor(3) as pool:
        tables = list(pool.map(lambda _: filled_pauses._central_vowel_words(), range(3)))
    assert all(t is tables[0] for t in tables)
    assert filled_pauses._central_vowel_table.cache_info().misses == 1
    filled_pauses.prepare()
    assert filled_pauses.may_hold_central_vowel("the") and not filled_pauses.may_hold_central_vowel(
        "it"
    )
