"""A room is its user's for one interview, renewed by each claim; then anyone may take it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.livekit.rooms import claim_room
from coach.store.memory import in_process_client
from tests.livekit.test_tokens import settings


async def test_a_claim_holds_for_an_interview_and_then_lapses(tmp_path: Path) -> None:
    c = in_process_client()
    app = create_app(settings(data_dir=tmp_path), analyzer=OfflineCoach(),
                     database=(c, c["coach"]))  # fmt: skip
    hour, brief = dt.timedelta(hours=1), dt.timedelta(milliseconds=50)
    async with app.router.lifespan_context(app):
        assert await claim_room("alice", "standup", hour)
        assert not await claim_room("bob", "standup", hour)  # held by alice
        assert await claim_room("alice", "standup", brief)  # alice renews (briefly, here)
        await asyncio.sleep(0.1)
        # alice's interview is over: the name is not hers for ever
        assert await claim_room("bob", "standup", hour)
        assert not await claim_room("alice", "standup", hour)
        # two users racing for a new name: exactly one gets it
        got = await asyncio.gather(*(claim_room(u, "fresh", hour) for u in ("a", "b", "c")))
        assert sorted(got) == [False, False, True]
