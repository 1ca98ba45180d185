"""Progress over interviews: table tests, properties, and the API over analyzed interviews."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.interviews.progress import (
    CONTENT_MEANS,
    GOAL_DIRECTIONS,
    Judged,
    Measured,
    Record,
    content_measures,
    goal_met,
    progress,
)
from coach.settings import Settings
from coach.store.memory import in_process_client
from tests.analysis.sessions import from_truth, nonsense, truth

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RATE_BAND = (120.0, 165.0)


def record(i: int, **values: float) -> Record:
    measures = tuple(
        Measured(name, name, v, "", RATE_BAND if name == "speaking_rate" else None)
        for name, v in values.items()
    )
    return Record(f"iv{i}", DAY + dt.timedelta(days=i), measures)


def test_changes_are_against_the_interview_before_and_the_recent_mean() -> None:
    records = [
        record(0, fillers_per_minute=9.0, overall=60),
        record(1, fillers_per_minute=6.0, overall=70),
        record(2, fillers_per_minute=3.0, overall=65),
    ]
    by = {m.measure: m for m in progress(records[::-1], {"fillers_per_minute": 4.0}, last_n=5)}
    f = by["fillers_per_minute"]
    assert [s.interview_id for s in f.samples] == ["iv0", "iv1", "iv2"]  # oldest first
    assert (f.latest, f.change, f.recent_mean) == (3.0, -3.0, 7.5)
    assert f.change_over_recent == pytest.approx(-4.5)
    assert f.improved is True and f.better == "lower"
    assert (f.goal, f.goal_met) == (4.0, True)
    o = by["overall"]
    assert o.improved is False and o.goal is None and o.goal_met is None
    # the page lists measures in a fixed order, overall first
    assert list(by) == ["overall", "fillers_per_minute"]


@pytest.mark.parametrize(
    ("before", "now", "improved"),
    [(180.0, 170.0, True), (170.0, 180.0, False), (150.0, 130.0, None), (110.0, 125.0, True)],
)
def test_a_rate_improves_by_coming_closer_to_its_band(
    before: float, now: float, improved: bool | None
) -> None:
    (m,) = progress([record(0, speaking_rate=before), record(1, speaking_rate=now)], {})
    assert m.better == "band" and m.improved is improved


def test_one_interview_has_no_change() -> None:
    (m,) = progress([record(0, hedges_per_minute=2.0)], {})
    assert (m.change, m.recent_mean, m.improved) == (None, None, None)


@given(
    st.sampled_from(sorted(GOAL_DIRECTIONS)),
    st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=12),
    st.floats(0, 100, allow_nan=False),
    st.integers(1, 10),
)
def test_improvement_and_goals_agree_with_the_numbers(
    measure: str, values: list[float], goal: float, last_n: int
) -> None:
    (m,) = progress([record(i, **{measure: v}) for i, v in enumerate(values)], {measure: goal},
                    last_n=last_n)  # fmt: skip
    assert m.change == pytest.approx(values[-1] - values[-2])
    window = values[-1 - last_n : -1]
    assert m.recent_mean == pytest.approx(sum(window) / len(window))
    if m.improved is not None:
        lower = GOAL_DIRECTIONS[measure] == "lower"
        assert m.improved == ((values[-1] < values[-2]) if lower else (values[-1] > values[-2]))
    assert m.goal_met == goal_met(measure, values[-1], goal)
    assert m.goal_met == ((values[-1] <= goal) if GOAL_DIRECTIONS[measure] == "lower"
                          else (values[-1] >= goal))  # fmt: skip


async def test_progress_goals_and_export_over_analyzed_interviews(tmp_path: Any) -> None:
    settings = Settings(jwt_secret="test-secret-" + "p" * 32, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    c = in_process_client()
    app = create_app(settings, analyzer=OfflineCoach(), database=(c, c["coach"]))
    sessions = [from_truth(truth("weakness")), nonsense(60, 190), from_truth(truth("project"))]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            creds = {"email": "p@example.com", "password": "correct horse battery"}
            assert (await http.post("/api/auth/register", json=creds)).status_code == 201
            token = (await http.post("/api/auth/login", json=creds)).json()["token"]
            h = {"authorization": f"Bearer {token}"}
            ids = []
            for s in sessions:
                body = {"roomName": "r", "participantIdentity": "p",
                        "sessionData": s.model_dump(by_alias=True)}  # fmt: skip
                r = await http.post("/api/interviews/analyze", json=body, headers=h)
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            stored = []
            for iid in ids:
                for _ in range(500):
                    got = (await http.get(f"/api/interviews/{iid}", headers=h)).json()
                    if got["status"] == "completed":
                        break
                    await asyncio.sleep(0.01)
                stored.append(got)
            bad = await http.put("/api/me/goals", json={"goals": {"nonsense": 1}}, headers=h)
            assert bad.status_code == 422
            r = await http.put("/api/me/goals", json={"goals": {"fillers_per_minute": 3}},
                               headers=h)  # fmt: skip
            assert r.json() == {"goals": {"fillers_per_minute": 3.0}}
            p = (await http.get("/api/me/progress?last=2", headers=h)).json()
            assert (await http.get("/api/me/progress?last=0", headers=h)).status_code == 400
            export = await http.get("/api/me/export", headers=h)
    assert p["interviews"] == 3 and p["last"] == 2
    measures = {m["measure"]: m for m in p["measures"]}
    # every value is the one the interview's own analysis judged
    newest = stored[-1]["aiAnalysis"]
    assert measures["overall"]["latest"] == newest["overallScore"]
    for f in newest["findings"]:
        assert measures[f["measure"]]["latest"] == f["value"]
        assert measures[f["measure"]]["good"] == f["band"]["good"]
    fillers = measures["fillers_per_minute"]
    assert [s["interviewId"] for s in fillers["samples"]] == ids
    assert fillers["goal"] == 3.0
    assert fillers["goalMet"] == (fillers["latest"] <= 3.0)
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    doc = export.json()
    assert doc["account"]["email"] == "p@example.com" and "passwordHash" not in doc["account"]
    assert doc["account"]["goals"] == {"fillers_per_minute": 3.0}
    assert sorted(i["id"] for i in doc["interviews"]) == sorted(ids)
    assert all(i["aiAnalysis"] for i in doc["interviews"])


def judged(measure: str, value: float, verdict: str) -> Judged:
    return Judged(measure, measure.replace("_", " "), value, "u", (0.5, 1.0), verdict)


@pytest.mark.parametrize(
    ("checks", "passed", "means"),
    [
        ([], None, {}),
        # two answers: a full STAR story and one with two parts; one check of four failed
        (
            [judged("star_parts", 4, "strength"), judged("star_parts", 2, "weakness"),
             judged("relevance", 0.6, "fine"), judged("length_seconds", 80, "strength")],
            0.75,
            {"star_parts": 3.0, "relevance": 0.6},
        ),
        ([judged("ownership", 0.2, "weakness")], 0.0, {"ownership": 0.2}),
    ],
)  # fmt: skip
def test_content_checks_become_a_share_passed_and_means_over_answers(
    checks: list[Judged], passed: float | None, means: dict[str, float]
) -> None:
    out = {m.measure: m for m in content_measures(checks)}
    if passed is None:
        assert out == {}
        return
    assert out["content_checks_passed"].value == passed
    assert {k: v.value for k, v in out.items() if k in CONTENT_MEANS} == means
    # length depends on each question's own band: it is counted, never averaged
    assert "length_seconds" not in out
    for name in means:
        assert out[name].good == (0.5, 1.0) and "mean over answers" in out[name].label


@given(st.lists(st.sampled_from(["strength", "fine", "weakness"]), min_size=1, max_size=30))
def test_the_share_passed_counts_exactly_the_checks_that_are_not_weaknesses(
    verdicts: list[str],
) -> None:
    checks = [judged("relevance", 0.5, v) for v in verdicts]
    share = content_measures(checks)[0].value
    assert share == round(sum(v != "weakness" for v in verdicts) / len(verdicts), 3)
    assert 0.0 <= share <= 1.0
