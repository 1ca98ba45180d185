"""`coach serve` runs uvicorn with the app's own settings: permessage-deflate only on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.live.test_crash_lifecycle import register, running

pytestmark = pytest.mark.slow


async def extensions(url: str, token: str) -> str:
    # the client offers permessage-deflate, as browsers do; the server's answer says if it took it
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        assert ws.response is not None
        return str(ws.response.headers.get("Sec-WebSocket-Extensions", ""))


@pytest.mark.parametrize(("setting", "deflate"), [(None, False), ("true", True)])
async def test_websocket_compression_follows_the_setting(
    tmp_path: Path, setting: str | None, deflate: bool
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = {} if setting is None else {"WS_COMPRESSION": setting}
    async with running(data, **env) as coach:
        token = await register(coach)
        got = await extensions(coach.url.replace("http", "ws") + "/", token)
    assert ("permessage-deflate" in got) is deflate, got
