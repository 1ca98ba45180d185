"""A local server speaking LiveKit's Twirp Egress API (protobuf over POST), for tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from livekit import api
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live.server import serve


@dataclass
class FakeEgress:
    """Answers StartRoomCompositeEgress and StopEgress the way LiveKit does."""

    api_secret: str
    started: list[api.RoomCompositeEgressRequest] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def _auth(self, request: Request) -> dict[str, Any] | None:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims: dict[str, Any] = jwt.decode(token, self.api_secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        self.grants.append(claims.get("video", {}))
        return claims

    async def start(self, request: Request) -> Response:
        claims = self._auth(request)
        if claims is None or not claims.get("video", {}).get("roomRecord"):
            return Response('{"code":"unauthenticated","msg":"no roomRecord"}', 401,
                            media_type="application/json")  # fmt: skip
        assert request.headers["content-type"] == "application/protobuf"
        body = api.RoomCompositeEgressRequest.FromString(await request.body())
        self.started.append(body)
        info = api.EgressInfo(
            egress_id=f"EG_{len(self.started)}", room_name=body.room_name,
            status=api.EgressStatus.EGRESS_STARTING,
        )  # fmt: skip
        return Response(info.SerializeToString(), media_type="application/protobuf")

    async def stop(self, request: Request) -> Response:
        if self._auth(request) is None:
            return Response('{"code":"unauthenticated","msg":"bad token"}', 401,
                            media_type="application/json")  # fmt: skip
        body = api.StopEgressRequest.FromString(await request.body())
        self.stopped.append(body.egress_id)
        info = api.EgressInfo(egress_id=body.egress_id, status=api.EgressStatus.EGRESS_ENDING)
        return Response(info.SerializeToString(), media_type="application/protobuf")


@contextlib.asynccontextmanager
async def fake_egress(api_secret: str) -> AsyncIterator[FakeEgress]:
    """Run a FakeEgress on a free port."""
    fake = FakeEgress(api_secret)
    app = Starlette(
        routes=[
            Route("/twirp/livekit.Egress/StartRoomCompositeEgress", fake.start, methods=["POST"]),
            Route("/twirp/livekit.Egress/StopEgress", fake.stop, methods=["POST"]),
        ]
    )
    async with serve(app) as srv:
        fake.url = srv.url
        yield fake
