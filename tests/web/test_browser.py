"""The practice page in Debian's Chromium, with a fixture WAV as the microphone."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from coach.analysis.feedback import AiAnalysis
from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.interviews.progress import CONTENT_MEANS
from coach.speech.summary import SessionSummary
from coach.stt.scripted import ScriptedRecognizer
from tests.analysis.sessions import FIXTURES, from_truth, truth, truth_words
from tests.live.server import LiveServer, serve
from tests.live.test_stream_sessions import database, settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="no Chromium: apt-get install chromium (CI does)"
)

EMAIL, PASSWORD = "browser@example.com", "correct horse battery"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-audio-capture={FIXTURES / 'weakness.wav'}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


class Shots:
    """Screenshots of each screen, kept with the test's output for review."""

    def __init__(self, where: Path) -> None:
        self.where = where
        where.mkdir(parents=True, exist_ok=True)
        self.n = 0

    async def take(self, page: Any, name: str) -> None:
        self.n += 1
        await page.screenshot(path=str(self.where / f"{self.n:02d}-{name}.png"), full_page=True)


async def sign_up(page: Any, srv: LiveServer) -> None:
    await page.goto(f"{srv.url}/app")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("heading", name="Set up your interview").wait_for()


@pytest.mark.slow
async def readable_on_a_phone(page: Any, charts: str) -> None:
    """Every label of these charts is at least 11 px on screen and inside its chart."""
    boxes = await page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].flatMap((svg) => {
             const frame = svg.getBoundingClientRect();
             return [...svg.querySelectorAll('text')].map((t) => {
               const b = t.getBoundingClientRect();
               return { text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize)
                          * frame.width / svg.viewBox.baseVal.width,
                        inside: b.left >= frame.left - 0.5 && b.right <= frame.right + 0.5 };
             });
           })""",
        charts,
    )
    assert boxes
    for box in boxes:
        assert box["size"] >= 11 - 0.01 and box["inside"], box


async def test_interview_in_the_browser_end_to_end(browser: Any, tmp_path: Path) -> None:
    gt = truth("weakness")
    shots = Shots(tmp_path / "screens")
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database())
    async with serve(app) as srv:
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{srv.url}/app")
        await shots.take(page, "sign-in")
        await sign_up(page, srv)
        await page.get_by_label("Role").fill("Backend engineer")
        await page.get_by_label("Questions").fill("2")
        await page.get_by_role("button", name="Test microphone").click()
        await page.wait_for_function("document.getElementById('mic-level').value > 0")
        await shots.take(page, "setup")
        await page.get_by_role("button", name="Start interview").click()
        await page.wait_for_function(
            "document.getElementById('question').textContent.includes('Backend engineer')"
        )
        count = page.locator("#question-count")
        assert await count.inner_text() == "· question 1 of 2"
        # the fake microphone plays the fixture; let it be heard once, through its last words
        await page.wait_for_function(
            "document.getElementById('final-text').textContent.split(' ').length > 40",
            timeout=90_000,
        )
        # the network drops under the page: it reconnects and resumes the same session
        dropped = 0
        for conn in list(srv.server.server_state.connections):
            if "WebSocket" in type(conn).__name__:
                conn.transport.abort()
                dropped += 1
        assert dropped == 1
        await page.get_by_text("Reconnected.").wait_for(timeout=15_000)
        # mid-answer, the candidate moves on with the control: no waiting out a silence
        first = await page.locator("#question").inner_text()
        await page.get_by_role("button", name="Next question").click()
        await page.wait_for_function(
            "document.getElementById('question-count').textContent.includes('2 of 2')",
            timeout=10_000,
        )
        assert await page.locator("#question").inner_text() != first
        await asyncio.sleep(max(0.0, gt["duration"] - 20))
        await shots.take(page, "interview")
        # every status the waiting screen shows, to check the full-accuracy pass is announced
        await page.evaluate(
            """() => {
              const el = document.getElementById('analyzing-status');
              window.statuses = [];
              new MutationObserver(() => window.statuses.push(el.textContent))
                .observe(el, { childList: true, characterData: true, subtree: true });
            }"""
        )
        await page.get_by_role("button", name="End interview").click()
        await page.get_by_role("heading", name="Your results").wait_for(timeout=120_000)
        statuses = await page.evaluate("window.statuses")
        # the local recognizer's report comes from a second pass over the recording
        assert any(s.startswith("Transcribing your") for s in statuses), statuses
        await page.wait_for_function("document.getElementById('player').readyState >= 1")
        await shots.take(page, "results")

        iid = (await page.evaluate("location.hash")).split("/")[-1]
        token = await page.evaluate("sessionStorage.getItem('coach.token')")
        async with httpx.AsyncClient(base_url=srv.url) as c:
            stored = (
                await c.get(f"/api/interviews/{iid}", headers={"authorization": f"Bearer {token}"})
            ).json()

        chips = page.locator("#fillers button")
        shown = [await chips.nth(i).inner_text() for i in range(await chips.count())]
        for word in {f["word"] for f in gt["fillers"]}:
            assert any(f"“{word}”" in s for s in shown), (word, shown)
        assert len(shown) == len(stored["fillers"])
        # clicking a filler plays from the shared lead-in before it; the moment is the filler's
        target = stored["fillers"][-1]
        lead = stored["aiAnalysis"]["seekLeadIn"]
        await chips.nth(len(shown) - 1).click()
        current = await page.evaluate("document.getElementById('player').currentTime")
        assert current == pytest.approx(max(0.0, target["timestamp"] - lead), abs=0.3)
        sought = await page.evaluate("document.getElementById('player').dataset.sought")
        assert float(sought) == pytest.approx(target["timestamp"])
        # one point per pace segment with speech, at its speaking rate (what the band judges)
        spoken = [p for p in stored["paceTimeline"] if p["speakingWpm"] is not None]
        points = page.locator("#pace-chart circle.point")
        assert await points.count() == len(spoken) >= 1
        plotted = [
            float(await points.nth(i).get_attribute("data-wpm") or 0) for i in range(len(spoken))
        ]
        assert plotted == [p["speakingWpm"] for p in spoken]
        await readable_on_a_phone(page, "#pace-chart")
        card = await page.locator("#score-pace").inner_text()
        # the card rounds as the server's sentences do (half to even), whatever the value
        assert card == f"{stored['speakingPace']:.0f} wpm"
        halves = [0.5, 1.5, 178.5, 179.5, 178.49, 178.51]
        rounded = await page.evaluate(
            "async (xs) => { const m = await import('/app/charts.js'); return xs.map(m.whole); }",
            halves,
        )
        assert rounded == [int(f"{x:.0f}") for x in halves]
        assert await page.locator("#timeline .filler").count() >= len(stored["fillers"])
        assert await page.locator("#score-overall").inner_text() == str(
            stored["aiAnalysis"]["overallScore"]
        )

        await page.get_by_role("button", name="History").click()
        await page.get_by_role("heading", name="Your interviews").wait_for()
        assert await page.locator("#trend-chart circle.point").count() == 1
        # progress: a card per measure the analysis judged, with the analysis' own value
        cards = page.locator("#progress .measure")
        await cards.first.wait_for()
        judged = {f["measure"] for f in stored["aiAnalysis"]["findings"]}
        checks = [f for c in stored["aiAnalysis"]["content"] for f in c["findings"]]
        # what was said, too: the share of content checks passed and their means over answers
        content = {"content_checks_passed"} if checks else set()
        content |= {f["measure"] for f in checks} & set(CONTENT_MEANS)
        shown = {
            await cards.nth(i).get_attribute("data-measure") for i in range(await cards.count())
        }
        assert shown == judged | content | {"overall"}
        fillers = page.locator('#progress .measure[data-measure="fillers_per_minute"]')
        await page.get_by_label("Fillers a minute, at most").fill("3")
        await page.get_by_role("button", name="Save goals").click()
        await fillers.get_by_text("goal ≤ 3").wait_for()
        await readable_on_a_phone(page, "#progress svg, #trend-chart")
        await shots.take(page, "history")
        async with page.expect_download() as download:
            await page.get_by_role("button", name="Download my data (JSON)").click()
        saved = await (await download.value).path()
        exported = json.loads(await asyncio.to_thread(Path(saved).read_text))
        assert [i["id"] for i in exported["interviews"]] == [iid]
        assert exported["account"]["goals"] == {"fillers_per_minute": 3.0}
        # a new interview starts from an untested microphone, not the last one's "Listening"
        await page.get_by_role("button", name="New interview").click()
        status = await page.locator("#mic-status").inner_text()
        assert status.startswith("Press") and "Listening" not in status
        assert errors == []
    assert len(list((tmp_path / "screens").glob("*.png"))) == 5


async def test_denied_microphone_says_so(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database())
    async with serve(app) as srv, async_playwright() as pw:
        # no fake-UI flag: the permission prompt is refused, as a user refusing it
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--use-fake-device-for-media-stream"]
        )
        try:
            page = await chromium.new_page()
            await sign_up(page, srv)
            await page.get_by_role("button", name="Start interview").click()
            alert = page.get_by_role("alert")
            await alert.wait_for()
            assert "denied" in (await alert.inner_text())
            assert await page.get_by_role("heading", name="Set up your interview").is_visible()
            await Shots(tmp_path / "screens").take(page, "mic-denied")
        finally:
            await chromium.close()


class FailsOnce:
    """Fails the first analysis (a provider outage), then coaches as the offline coach."""

    name = "fails-once"

    def __init__(self) -> None:
        self.calls = 0

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the coaching model is unavailable")
        return await OfflineCoach().analyze(summary, questions=questions)

    async def aclose(self) -> None:
        return None


async def test_failed_analysis_offers_a_retry_that_works(browser: Any, tmp_path: Path) -> None:
    gt = truth("weakness")
    app = create_app(settings(tmp_path), analyzer=FailsOnce(), database=database())
    async with serve(app) as srv:
        page = await browser.new_page()
        await sign_up(page, srv)
        token = await page.evaluate("sessionStorage.getItem('coach.token')")
        summary = SessionSummary(
            transcript=gt["transcript"], duration=gt["duration"], total_words=gt["totalWords"],
            average_pace=gt["totalWords"] / gt["duration"] * 60,
        )  # fmt: skip
        async with httpx.AsyncClient(base_url=srv.url) as c:
            r = await c.post(
                "/api/interviews/analyze",
                headers={"authorization": f"Bearer {token}"},
                json={"roomName": "r", "participantIdentity": "p",
                      "sessionData": json.loads(summary.model_dump_json(by_alias=True))},
            )  # fmt: skip
            iid = r.json()["id"]
            for _ in range(100):
                got = await c.get(
                    f"/api/interviews/{iid}", headers={"authorization": f"Bearer {token}"}
                )
                if got.json()["status"] == "failed":
                    break
                await asyncio.sleep(0.05)
        await page.goto(f"{srv.url}/app/#interview/{iid}")
        await page.reload()
        failed = page.locator("#failed")
        await failed.wait_for()
        assert "could not be completed" in await failed.inner_text()
        await Shots(tmp_path / "screens").take(page, "failed")
        await page.get_by_role("button", name="Retry the analysis").click()
        await page.wait_for_function(
            "document.getElementById('score-overall').textContent.trim() !== '—'", timeout=30_000
        )
        assert await failed.is_hidden()


async def _analyzed_interview(c: httpx.AsyncClient, token: str, name: str) -> str:
    """An interview of fixture `name` stored and analyzed through the REST API."""
    auth = {"authorization": f"Bearer {token}"}
    summary = from_truth(truth(name))
    r = await c.post(
        "/api/interviews/analyze",
        headers=auth,
        json={"roomName": f"r-{name}", "participantIdentity": "p",
              "sessionData": json.loads(summary.model_dump_json(by_alias=True))},
    )  # fmt: skip
    iid = str(r.json()["id"])
    for _ in range(200):
        if (await c.get(f"/api/interviews/{iid}", headers=auth)).json()["status"] == "completed":
            return iid
        await asyncio.sleep(0.05)
    raise AssertionError(f"interview {name} was not analyzed")


async def test_a_drill_in_the_browser_then_progress_after_three(
    browser: Any, tmp_path: Path
) -> None:
    gt = truth("weakness")
    shots = Shots(tmp_path / "screens")
    # the fake microphone plays the fixture; its words come from the scripted recognizer
    app = create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=database(),
        recognizer=ScriptedRecognizer.from_words(truth_words(gt)),
    )
    async with serve(app) as srv:
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await sign_up(page, srv)
        token = await page.evaluate("sessionStorage.getItem('coach.token')")
        async with httpx.AsyncClient(base_url=srv.url) as c:
            earlier = [await _analyzed_interview(c, token, n) for n in ("project", "thinking")]

        await page.get_by_label("Habit", exact=True).select_option("fillers")
        await page.get_by_label("Length", exact=True).select_option("60")
        await page.get_by_role("button", name="Start drill").click()
        await page.get_by_role("heading", name="Drill: Filler words").wait_for()
        assert await page.get_by_role("button", name="Next question").is_hidden()
        assert "ends by itself after 1:00" in await page.locator("#turn-rule").inner_text()
        # the fixture opens with "um": the drill's own hint about it shows while it is fresh
        await page.wait_for_function(
            "document.getElementById('nudge').textContent.includes('pause silently')",
            timeout=30_000,
        )
        await shots.take(page, "drill")
        # nobody presses End: the drill stops at its time limit and scores the habit
        await page.get_by_role("heading", name="Your drill").wait_for(timeout=120_000)
        await page.wait_for_function(
            "document.getElementById('drill-result-score').textContent.includes('/100')",
            timeout=30_000,
        )
        await shots.take(page, "drill-result")
        iid = (await page.evaluate("location.hash")).split("/")[-1]
        async with httpx.AsyncClient(base_url=srv.url) as c:
            stored = (
                await c.get(f"/api/interviews/{iid}", headers={"authorization": f"Bearer {token}"})
            ).json()
        result = stored["drillResult"]
        assert stored["drill"]["habit"] == "fillers" and stored["drill"]["seconds"] == 60
        assert await page.locator("#drill-result-score").inner_text() == f"{result['score']}/100"
        assert await page.locator("#drill-result-text").inner_text() == result["text"]

        await page.get_by_role("button", name="History").click()
        await page.get_by_role("heading", name="Your interviews").wait_for()
        assert await page.locator("#history-list li").count() == 3
        await page.get_by_text("drill on filler words").wait_for()
        fillers = page.locator('#progress .measure[data-measure="fillers_per_minute"]')
        await fillers.wait_for()
        # three points, oldest first; the drill (the newest) drawn hollow
        points = fillers.locator("circle.point")
        assert await points.count() == 3
        assert await fillers.locator("circle.point.drill").count() == 1
        assert await points.nth(2).get_attribute("class") == "point drill"
        async with httpx.AsyncClient(base_url=srv.url) as c:
            got = await c.get("/api/me/progress", headers={"authorization": f"Bearer {token}"})
        progress = got.json()
        fpm = next(m for m in progress["measures"] if m["measure"] == "fillers_per_minute")
        assert [s["interviewId"] for s in fpm["samples"]] == [*earlier, iid]
        plotted = [float(await points.nth(i).get_attribute("data-value") or 0) for i in range(3)]
        assert plotted == [s["value"] for s in fpm["samples"]]
        await readable_on_a_phone(page, "#progress svg, #trend-chart")
        await shots.take(page, "progress-three")
        assert errors == []
    assert len(list((tmp_path / "screens").glob("*.png"))) == 3
