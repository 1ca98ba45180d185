"""Egress recordings: started and stopped over LiveKit's Twirp API, located by a webhook."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToJson
from livekit import api

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from tests.live.server import serve
from tests.live.test_stream_sessions import database
from tests.livekit.fake_twirp import fake_egress
from tests.livekit.test_tokens import KEY, SECRET
from tests.livekit.test_tokens import settings as livekit_settings
from tests.service.test_api import _session

LOCATION = "s3://interviews/room-1.ogg"


def signed(event: api.WebhookEvent, secret: str = SECRET) -> tuple[str, dict[str, str]]:
    body = MessageToJson(event)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(KEY, secret).with_sha256(digest).to_jwt()
    return body, {"authorization": token, "content-type": "application/webhook+json"}


def ended(egress_id: str) -> api.WebhookEvent:
    info = api.EgressInfo(egress_id=egress_id, room_name="room-1",
                          status=api.EgressStatus.EGRESS_COMPLETE)  # fmt: skip
    info.file_results.add(filename="room-1.ogg", location=LOCATION)
    return api.WebhookEvent(event="egress_ended", egress_info=info, id="EV_1")


@pytest.mark.parametrize("webhook_first", [False, True])
async def test_egress_recording_reaches_the_interview(tmp_path: Any, webhook_first: bool) -> None:
    async with fake_egress(SECRET) as fake:
        s = livekit_settings(
            data_dir=tmp_path, livekit_url=fake.url.replace("http://", "ws://"),
            livekit_egress_filepath="interviews/{room_name}-{time}.ogg",
            livekit_egress_s3_bucket="interviews", livekit_egress_s3_secret="made-up",
        )  # fmt: skip
        app = create_app(s, analyzer=OfflineCoach(), database=database())
        async with serve(app) as srv, httpx.AsyncClient(base_url=srv.url) as c:
            egress = app.state.services.egress
            egress_id = await egress.start("room-1")
            [request] = fake.started
            assert request.room_name == "room-1" and request.audio_only
            output = request.file_outputs[0]
            assert output.file_type == api.EncodedFileType.OGG
            assert output.filepath == "interviews/{room_name}-{time}.ogg"
            assert output.s3.bucket == "interviews"
            assert fake.grants[0]["roomRecord"] is True  # the server-side call's grant

            account = {"email": "e@example.com", "password": "correct horse"}
            r = await c.post("/api/auth/register", json=account)
            h = {"authorization": f"Bearer {r.json()['token']}"}
            body = {"roomName": "room-1", "participantIdentity": "p", "sessionData": _session()}
            iid = (await c.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]

            async def webhook() -> None:
                payload, headers = signed(ended(egress_id))
                w = await c.post("/api/livekit/webhook", content=payload, headers=headers)
                assert w.status_code == 204, w.text

            if webhook_first:
                await webhook()
                await egress.stop(egress_id)
                await egress.link(egress_id, iid)
            else:
                await egress.stop(egress_id)
                await egress.link(egress_id, iid)
                await webhook()
            assert fake.stopped == [egress_id]
            got = (await c.get(f"/api/interviews/{iid}", headers=h)).json()
            assert got["recordingUrl"] == LOCATION


async def test_webhook_signature_is_checked(tmp_path: Any) -> None:
    app = create_app(livekit_settings(data_dir=tmp_path), analyzer=OfflineCoach(),
                     database=database())  # fmt: skip
    async with serve(app) as srv, httpx.AsyncClient(base_url=srv.url) as c:
        payload, headers = signed(ended("EG_x"), secret="not-the-secret-" + "n" * 32)
        bad = await c.post("/api/livekit/webhook", content=payload, headers=headers)
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "bad_signature"
        payload, headers = signed(ended("EG_x"))
        tampered = await c.post(
            "/api/livekit/webhook", content=payload.replace("room-1", "room-2"), headers=headers
        )
        assert tampered.status_code == 401
        good = await c.post("/api/livekit/webhook", content=payload, headers=headers)
        assert good.status_code == 204  # an egress coach did not start is acknowledged
