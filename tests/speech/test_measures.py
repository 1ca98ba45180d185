"""Table tests for pace, pauses, latency and the summary's wire shape."""

from __future__ import annotations

import pytest

from coach.speech.accumulator import SpeechAccumulator, SpeechConfig
from coach.speech.metrics import summarize
from coach.speech.words import QuestionTiming, Silence, Word

from .words import words_from


def test_pace_counts_words_by_midpoint_and_scales_the_last_segment() -> None:
    # 60 words in the first 30 s, 10 words in a 10 s tail.
    words = words_from(" ".join(["go"] * 60), per_word=0.5) + words_from(
        " ".join(["go"] * 10), start=30.0, per_word=1.0
    )
    s = summarize(words)
    assert [p.wpm for p in s.pace_timeline] == [120.0, 60.0]
    assert s.pace_timeline[1].segment_end == pytest.approx(40.0)


def test_average_pace_over_total_and_speaking_time() -> None:
    words = words_from("a b c d e f g h i j", per_word=0.5) + words_from(
        "k l m n o p q r s t", start=15.0, per_word=0.5
    )
    s = summarize(words, duration=20.0)
    assert s.average_pace == pytest.approx(20 * 60 / 20.0)
    assert s.speaking_time == pytest.approx(10.0)
    assert s.speaking_pace == pytest.approx(120.0)
    assert s.speaking_ratio == pytest.approx(0.5)


def test_pauses_from_word_gaps_over_the_threshold() -> None:
    words = [Word("a", 0, 0.5), Word("b", 1.6, 2.0), Word("c", 3.5, 4.0)]
    s = summarize(words)
    assert [(p.timestamp, p.duration) for p in s.pauses] == [(2.0, 1.5)]
    assert summarize(words, config=SpeechConfig(pause_threshold=1.0)).pauses[0].timestamp == 0.5


def test_vad_silences_win_over_word_gaps() -> None:
    # Word timings claim a gap of 2 s; the detector heard speech there except for 0.4 s.
    words = [Word("a", 0, 0.5), Word("b", 2.5, 3.0), Word("c", 3.2, 3.6)]
    s = summarize(words, silences=[Silence(1.0, 1.4)])
    assert s.pauses == []
    s = summarize(words, silences=[Silence(0.6, 2.4)])
    assert [(p.timestamp, p.duration) for p in s.pauses] == [(0.6, 1.8)]


def test_silence_before_the_first_and_after_the_last_word_is_not_a_pause() -> None:
    words = [Word("a", 3.0, 3.5), Word("b", 3.6, 4.0)]
    s = summarize(words, silences=[Silence(0, 3.0), Silence(4.0, 9.0)], duration=9.0)
    assert s.pauses == []


def test_response_latency_is_measured_apart_from_pauses() -> None:
    words = words_from("I built it", start=4.0) + words_from("then I left", start=12.0)
    q1, q2 = QuestionTiming("Tell me about you", 1.0), QuestionTiming("And then?", 10.0)
    s = summarize(words, questions=[q1, q2])
    assert [q.response_latency for q in s.questions] == [pytest.approx(3.0), pytest.approx(2.0)]
    assert s.questions[0].answer_end == pytest.approx(words[2].end)
    # the wait for the second answer is latency, not a pause inside the answer
    assert s.pauses == []


def test_transcript_segments_split_at_long_pauses() -> None:
    words = words_from("First part here.") + words_from("Second part.", start=5.0)
    s = summarize(words)
    assert [seg.text for seg in s.transcript_segments] == ["First part here.", "Second part."]


def test_wire_shape_is_camel_case() -> None:
    dumped = summarize(words_from("Um, so, yes")).model_dump(by_alias=True)
    for key in ("totalWords", "averagePace", "paceTimeline", "transcriptSegments", "speakingPace"):
        assert key in dumped
    assert set(dumped["fillers"][0]) == {
        "word",
        "timestamp",
        "contextBefore",
        "contextAfter",
        "source",
    }


def test_empty_session() -> None:
    s = summarize([], duration=5.0)
    assert s.total_words == 0 and s.fillers == [] and s.pauses == []
    assert s.average_pace == 0 and s.duration == 5.0


def test_live_metrics_current_pace_over_the_last_segment() -> None:
    acc = SpeechAccumulator()
    acc.update(words_from(" ".join(["w"] * 30), per_word=1.0), is_final=True)
    acc.update(words_from("um so", start=30.0), is_final=True)
    m = acc.live_metrics()
    assert m.words == 32 and m.fillers == 1
    assert m.current_wpm == pytest.approx(60.0, abs=5)
