"""Burst-prone steps take turns on the loop: other work runs between any two of them."""

from __future__ import annotations

import asyncio

from coach.loop_turns import one_turn
from coach.store.memory import in_process_client


async def _interleaving(burst: int, *, turns: bool) -> list[int]:
    """The ticker's count when each step of a burst ran (a ticker bumps it every turn)."""
    ticks = 0
    seen: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def step() -> None:
        if turns:
            async with one_turn():
                seen.append(ticks)
        else:
            await asyncio.sleep(0)
            seen.append(ticks)

    running = asyncio.create_task(ticker(), name="ticker")
    await asyncio.sleep(0)
    await asyncio.gather(*(step() for _ in range(burst)))
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    return seen


async def test_a_burst_runs_one_step_per_turn_of_the_loop() -> None:
    together = await _interleaving(50, turns=False)
    # without turns every step of the burst runs in the same turn, the ticker waiting behind
    assert len(set(together)) == 1
    apart = await _interleaving(50, turns=True)
    # with them, the ticker runs between any two steps: no two share a turn
    assert len(set(apart)) == 50
    assert apart == sorted(apart)


async def test_store_operations_take_turns_and_an_id_lookup_finds_its_document() -> None:
    client = in_process_client()
    docs = client["t"]["docs"]
    await docs.insert_many([{"_id": f"d{i}", "n": i} for i in range(100)])
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker(), name="ticker")
    seen: list[int] = []

    async def read(i: int) -> None:
        found = await docs.find_one({"_id": f"d{i}"})
        seen.append(ticks)
        assert found == {"_id": f"d{i}", "n": i}

    await asyncio.gather(*(read(i) for i in range(20)))
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert len(set(seen)) == 20
    # the id lookup applies the rest of the filter, and finds nothing for a missing id
    assert await docs.find_one({"_id": "d3", "n": 4}) is None
    assert await docs.find_one({"_id": "nope"}) is None
    assert await docs.find_one({"_id": {"$in": ["d5"]}}) == {"_id": "d5", "n": 5}
