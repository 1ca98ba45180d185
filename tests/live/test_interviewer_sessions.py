"""The text-mode interviewer over a real WebSocket: questions paced by the candidate's answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.interviewer.bank import load_bank
from coach.stt.scripted import ScriptedRecognizer
from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, database, fetch, settings

SILENCE = 8.0


async def test_plan_drives_questions_and_the_summary_is_split_per_question(tmp_path: Any) -> None:
    first, second = truth("weakness"), truth("project")
    shift = first["duration"] + SILENCE
    words = truth_words(first) + [
        dataclasses.replace(w, start=w.start + shift, end=w.end + shift)
        for w in truth_words(second)
    ]
    gap = np.zeros(int(SILENCE * 16000), dtype="<i2").tobytes()
    audio = pcm(FIXTURES / "weakness.wav") + gap + pcm(FIXTURES / "project.wav") + gap
    app = create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=database(),
        recognizer=ScriptedRecognizer.from_words(words),
    )
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            plan = {"role": "Backend engineer", "seniority": "senior", "questions": 2}
            await c.send({**STREAM, "plan": plan})
            await c.of_type("ready")
            opening = await c.of_type("question")
            await stream(c, audio)
            closing = await c.next(lambda e: e.get("type") == "question" and e["closing"])
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete")
        questions = [e for e in c.events if e.get("type") == "question"]
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()

    assert opening["index"] == 0 and opening["askedAt"] == 0.0
    assert "Backend engineer" in opening["text"]
    assert [q["kind"] for q in questions] == ["question", "question", "closing"]
    asked = questions[1]["askedAt"]
    # not during the fixture's 2.3 s thinking pauses, but once the first answer was over
    last_word = truth_words(first)[-1].end
    assert last_word + 3.0 < asked < shift
    assert closing["text"] == load_bank().closing
    assert closing["askedAt"] > shift + truth_words(second)[-1].end + 3.0
    spans = stored["questions"]
    # stored: the questions alone; the greeting before the first is shown, not judged against
    assert [q["text"] for q in spans] == [
        questions[0]["text"].split(" role. ", 1)[1],
        questions[1]["text"],
    ]
    assert spans[0]["answerStart"] < last_word <= spans[0]["answerEnd"] + 0.01
    assert spans[1]["answerStart"] >= shift
    assert spans[1]["responseLatency"] > 0


async def test_bad_plan_is_refused_with_its_field(tmp_path: Any) -> None:
    app = create_app(
        settings(tmp_path), analyzer=OfflineCoach(), database=database(),
        recognizer=ScriptedRecognizer([]),
    )  # fmt: skip
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "plan": {"role": "x", "questions": 99}})
            err = await c.of_type("error")
            assert err["code"] == "bad_plan" and "plan.questions" in err["message"]
            await c.send({**STREAM, "plan": {"role": "x", "questions": 1}})
            await c.of_type("ready")


async def test_next_moves_on_at_once_and_questions_are_numbered(tmp_path: Any) -> None:
    first = truth("weakness")
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database(),
                     recognizer=ScriptedRecognizer.from_words(truth_words(first)))  # fmt: skip
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({**STREAM, "plan": {"role": "Nurse", "questions": 2}})
            await c.of_type("ready")
            opening = await c.of_type("question")
            # half the answer, then the candidate says it is done: no waiting for a silence
            audio = pcm(FIXTURES / "weakness.wav")
            await stream(c, audio[: len(audio) // 2])
            await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
            await c.send({"action": "next"})
            second = await c.next(lambda e: e.get("type") == "question" and e["index"] == 1)
            await c.send({"action": "next"})
            closing = await c.next(lambda e: e.get("type") == "question" and e["closing"])
            await c.send({"action": "next"})
            refused = await c.of_type("error")
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete")
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
    assert (opening["number"], opening["of"]) == (1, 2)
    assert (second["kind"], second["number"], second["of"]) == ("question", 2, 2)
    # moved on at the audio heard so far, long before a silence could have ended the answer
    assert second["askedAt"] <= len(audio) / 2 / 32000 + 0.5
    assert closing["text"] == load_bank().closing
    assert refused["code"] == "no_next_question"
    # both questions are stored with their answers' spans, the second asked when moved on
    assert [q["text"] for q in stored["questions"]][1:] == [second["text"]]
    assert len(stored["questions"]) == 2
