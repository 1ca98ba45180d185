"""Erasure deletes Egress uploads from the bucket, through the real boto3 client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
import pytest
from moto.server import ThreadedMotoServer

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.livekit.egress_files import object_key
from coach.store.documents import EgressRecord, Room
from coach.store.memory import in_process_client
from tests.livekit.test_tokens import settings as livekit_settings

BUCKET = "coach-egress"


@pytest.mark.parametrize(
    ("location", "key"),
    [
        ("s3://coach-egress/rooms/r1/a.ogg", "rooms/r1/a.ogg"),
        ("https://coach-egress.s3.eu-west-1.amazonaws.com/rooms/r1/a%20b.ogg", "rooms/r1/a b.ogg"),
        ("http://127.0.0.1:9000/coach-egress/rooms/r1/a.ogg", "rooms/r1/a.ogg"),
        ("https://other-bucket.s3.amazonaws.com/rooms/r1/a.ogg", None),
        ("/var/lib/egress/a.ogg", None),
    ],
)
def test_egress_locations_name_their_object(location: str, key: str | None) -> None:
    assert object_key(location, BUCKET) == key


@pytest.fixture
def s3() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def test_erasure_deletes_the_account_s_egress_uploads(s3: str, tmp_path: Path) -> None:
    creds = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}
    bucket = boto3.client("s3", endpoint_url=s3, region_name="us-east-1", **creds)
    bucket.create_bucket(Bucket=BUCKET)
    bucket.put_object(Bucket=BUCKET, Key="rooms/mine/take.ogg", Body=b"OggS...")
    bucket.put_object(Bucket=BUCKET, Key="rooms/theirs/take.ogg", Body=b"OggS...")
    s = livekit_settings(data_dir=tmp_path, livekit_egress_s3_bucket=BUCKET,
                         livekit_egress_s3_endpoint=s3, livekit_egress_s3_region="us-east-1",
                         livekit_egress_s3_access_key=creds["aws_access_key_id"],
                         livekit_egress_s3_secret=creds["aws_secret_access_key"])  # fmt: skip
    c = in_process_client()
    app = create_app(s, analyzer=OfflineCoach(), database=(c, c["coach"]))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:  # fmt: skip
            who = {"email": "egress@example.com", "password": "correct horse battery"}
            await http.post("/api/auth/register", json=who)
            token = (await http.post("/api/auth/login", json=who)).json()["token"]
            h = {"authorization": f"Bearer {token}"}
            uid = (await http.get("/api/me", headers=h)).json()["id"]
            await Room(id="mine", user_id=uid).insert()
            await EgressRecord(id="EG_mine", room_name="mine",
                               location=f"{s3}/{BUCKET}/rooms/mine/take.ogg").insert()  # fmt: skip
            await Room(id="theirs", user_id="someone-else").insert()
            theirs = f"s3://{BUCKET}/rooms/theirs/take.ogg"
            await EgressRecord(id="EG_theirs", room_name="theirs", location=theirs).insert()
            assert (await http.delete("/api/me", headers=h)).status_code == 204
            left: list[Any] = await EgressRecord.find_all().to_list()
    keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == ["rooms/theirs/take.ogg"]
    assert [e.id for e in left] == ["EG_theirs"]
