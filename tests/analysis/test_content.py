"""What was said: STAR parts, relevance, length, ownership and repeats, from tables and clips."""

from __future__ import annotations

import json

import pytest

from coach.analysis.content import analyze_answer, lemma, question_kind, repeated_sentences
from coach.speech.summary import WordOut
from tests.paths import FIXTURES
from tests.test_cli_analyze import run_coach

BEHAVIOURAL = "Tell me about a time you disagreed with your team"


def said(
    text: str, start: float = 0.0, step: float = 0.4, confidence: float = 0.9
) -> list[WordOut]:
    out, t = [], start
    for token in text.split():
        word = token.lower().strip(".,!?")
        out.append(
            WordOut(word=word, start=t, end=t + 0.3, confidence=confidence, punctuated_word=token)
        )
        t += step
    return out


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (BEHAVIOURAL, "behavioural"),
        ("Describe a situation where you missed a deadline.", "behavioural"),
        ("Give me an example of leadership.", "behavioural"),
        ("Why do you want this job?", "general"),
        ("Walk me through your background.", "general"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


@pytest.mark.parametrize(
    ("answer", "present", "missing"),
    [
        (
            "Last year our team had two weeks to migrate the data. My job was to plan it. "
            "So I wrote a runbook. As a result we shipped a week early.",
            ["situation", "task", "action", "result"],
            [],
        ),
        (
            "Last year our team had two weeks to migrate the data. My job was to plan it. "
            "So I wrote a runbook and I asked the team to review it.",
            ["situation", "task", "action"],
            ["result"],
        ),
        (
            "I wrote a runbook and I asked the team to review it.",
            ["action"],
            ["situation", "task", "result"],
        ),
        ("It was good.", [], ["situation", "task", "action", "result"]),
    ],
)
def test_star_parts(answer: str, present: list[str], missing: list[str]) -> None:
    c = analyze_answer(BEHAVIOURAL, said(answer))
    assert (c.star_present, c.star_missing) == (present, missing)
    starts = [p.start for p in c.star]
    assert starts == sorted(starts)


def test_a_result_without_an_outcome_is_thin() -> None:
    c = analyze_answer(BEHAVIOURAL, said("So I wrote a plan. In the end it was fine."))
    assert [p.part for p in c.star if p.thin] == ["result"]
    c = analyze_answer(BEHAVIOURAL, said("So I wrote a plan. In the end errors fell 40 percent."))
    assert not [p for p in c.star if p.thin]


@pytest.mark.parametrize(
    ("question", "answer", "low", "high"),
    [
        (
            "Walk me through your background.",
            "I studied physics at university and then joined a startup as an engineer.",
            0.5,
            1.0,
        ),
        (
            "Walk me through your background.",
            "My teammate and I argued about the plan and found a compromise.",
            0.0,
            0.2,
        ),
        (BEHAVIOURAL, "I disagreed with my lead about the plan and we argued.", 0.5, 1.0),
    ],
)
def test_relevance(question: str, answer: str, low: float, high: float) -> None:
    c = analyze_answer(question, said(answer))
    assert c.relevance is not None and low <= c.relevance <= high


def test_misheard_words_do_not_count_for_content() -> None:
    words = said("I studied physics at university", confidence=0.1)
    c = analyze_answer("Walk me through your background.", words)
    assert c.relevance == 0.0


def test_ownership_and_repeats() -> None:
    words = said("We planned it. We built it. I tested it. We built it.")
    c = analyze_answer(BEHAVIOURAL, words)
    assert (c.i_count, c.we_count) == (1, 3)
    assert repeated_sentences(said("I like the team here a lot. I like the team here a lot.")) == [
        ("i like the team here a lot", 2.8)
    ]


def test_lemma() -> None:
    assert lemma("disagreed") == lemma("disagree") == lemma("disagrees")
    assert lemma("studies") == lemma("studied")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["star-complete", "star-no-result", "off-topic"])
def test_content_of_recorded_answers_matches_their_ground_truth(name: str) -> None:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    done = run_coach("analyze", FIXTURES / f"{name}.wav", "--question", truth["question"], "--json")
    assert done.returncode == 0, done.stderr
    analysis = json.loads(done.stdout)["aiAnalysis"]
    (content,) = analysis["content"]
    want = truth["content"]
    if want["star"] is None:
        assert content["star"] is None
    else:
        assert content["star"]["present"] == want["star"]["present"]
        assert content["star"]["missing"] == want["star"]["missing"]
    relevant = content["relevance"] >= 0.5
    assert relevant == want["onTopic"], content
    faulted = {f["measure"] for f in content["findings"] if f["verdict"] == "weakness"}
    assert ("relevance" in faulted) == (not want["onTopic"])
    assert ("star_parts" in faulted) == bool(want["star"] and want["star"]["missing"])
