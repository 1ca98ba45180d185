"""Session start-up: every network step under its own timeout, failing with its own code."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from coach.ratelimits import RateLimits
from coach.sessions.start import StartTimeouts
from tests.live.server import account, client, serve
from tests.live.test_stream_sessions import STREAM, app_for


class StalledRateLimits(RateLimits):
    """The rate limiter's store stalls (or fails) while `stalled` is set, then recovers."""

    def __init__(self, inner: RateLimits, *, fail: bool) -> None:
        self.__dict__.update(inner.__dict__)
        self.stalled = True
        self.fail = fail

    async def hit(self, action: Any, *, address: str, account: str | None = None) -> None:
        if self.stalled:
            if self.fail:
                raise ConnectionError("rate-limit store refused the connection")
            await asyncio.sleep(3600)
        await super().hit(action, address=address, account=account)


@pytest.mark.parametrize("fail", [False, True], ids=["stalls", "fails"])
async def test_a_stalled_step_is_one_clear_error_then_starts_work_again(
    tmp_path: Any, fail: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_for(tmp_path)
    async with serve(app) as srv:
        token = await account(srv.url)
        services = app.state.services
        stalled = StalledRateLimits(services.rate_limits, fail=fail)
        services.rate_limits = stalled
        app.state.starter.timeouts = StartTimeouts(database=0.3)
        async with client(srv.ws_url, token) as c:
            loop = asyncio.get_running_loop()
            began = loop.time()
            with caplog.at_level(logging.ERROR, logger="coach.sessions.start"):
                await c.send(STREAM)
                err = await c.of_type("error", within=5)
            assert err["code"] == "rate_limit_unavailable"
            assert "try again" in err["message"]
            assert loop.time() - began < 2.0
            assert any("the rate limiter failed" in r.getMessage() for r in caplog.records)
            # the socket is still good: once the store is back, the same start works
            stalled.stalled = False
            await c.send(STREAM)
            await c.of_type("ready")
            await c.send({"action": "complete"})
            await c.of_type("session_complete")
