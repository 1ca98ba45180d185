"""LiveKit tokens from the real endpoint, decoded and checked grant by grant."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.interviewer.plan import InterviewPlan
from coach.livekit.dispatch import DispatchError, JobMetadata
from coach.livekit.tokens import LiveKitConfig
from coach.settings import Settings
from coach.store.memory import in_process_client

KEY, SECRET = "APItestkey", "made-up-livekit-secret-for-tests-only-0123456789"
URL = "wss://livekit.example.test"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": "test-secret-" + "t" * 32,
        "livekit_url": URL,
        "livekit_api_key": KEY,
        "livekit_api_secret": SECRET,
        "livekit_token_ttl_minutes": 7,
        "livekit_agent_server": False,  # no LiveKit server to register with here
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    c = in_process_client()
    app = create_app(settings(), analyzer=OfflineCoach(), database=(c, c["coach"]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def user(c: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    r = await c.post("/api/auth/register", json={"email": email, "password": "correct horse"})
    body = r.json()
    return body["id"], {"authorization": f"Bearer {body['token']}"}


def decode(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return claims


async def test_token_grants_one_room_microphone_only(client: httpx.AsyncClient) -> None:
    uid, h = await user(client, "lk@example.com")
    before = time.time()
    r = await client.post(
        "/api/livekit/token", json={"roomName": "interview-42", "participantName": "Ada"}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url"] == URL
    claims = decode(body["token"])
    assert claims["iss"] == KEY
    assert claims["sub"] == uid  # the identity is the account, not what the client asked
    assert claims["name"] == "Ada"
    assert 7 * 60 - 5 <= claims["exp"] - before <= 7 * 60 + 5
    video = claims["video"]
    assert video["room"] == "interview-42"
    assert video["roomJoin"] is True
    assert video["canSubscribe"] is True
    assert video["canPublish"] is True
    assert video["canPublishSources"] == ["microphone"]
    for forbidden in ("roomAdmin", "roomRecord", "roomCreate", "roomList", "agent", "recorder"):
        assert not video.get(forbidden), forbidden
    # the first join dispatches one coach job, about this interview and this candidate
    (dispatch,) = claims["roomConfig"]["agents"]
    assert dispatch["agentName"] == "coach"
    job = json.loads(dispatch["metadata"])
    assert job["interviewId"] == body["interviewId"] and len(job["interviewId"]) == 32
    assert job["userId"] == uid and job["participantIdentity"] == uid
    assert "plan" not in job
    # asking again for one's own room is fine
    again = await client.post(
        "/api/livekit/token", json={"roomName": "interview-42", "participantName": "Ada"}, headers=h
    )
    assert again.status_code == 200


async def test_the_plan_rides_in_the_dispatch_and_each_token_is_a_new_interview(
    client: httpx.AsyncClient,
) -> None:
    _, h = await user(client, "plan@example.com")
    plan = {"role": "Data engineer", "seniority": "senior", "questions": 3, "minutes": 20}
    body = {"roomName": "room-p", "participantName": "P", "plan": plan}
    first = (await client.post("/api/livekit/token", json=body, headers=h)).json()
    second = (await client.post("/api/livekit/token", json=body, headers=h)).json()
    assert first["interviewId"] != second["interviewId"]
    (dispatch,) = decode(first["token"])["roomConfig"]["agents"]
    job = JobMetadata.from_json(dispatch["metadata"])
    assert job.interview_id == first["interviewId"]
    assert job.plan == InterviewPlan.model_validate(plan)
    bad = {**body, "plan": {"questions": 99}}
    r = await client.post("/api/livekit/token", json=bad, headers=h)
    assert r.status_code == 422 and "plan" in r.json()["error"]["message"]


def test_job_metadata_refuses_what_is_not_coach_s() -> None:
    sneaky = '{"interviewId": "../x", "userId": "u", "participantIdentity": "p"}'
    for raw in ("", "[]", "{}", sneaky):
        with pytest.raises(DispatchError, match="bad job metadata"):
            JobMetadata.from_json(raw)


async def test_refusals(client: httpx.AsyncClient) -> None:
    _, mine = await user(client, "a@example.com")
    _, theirs = await user(client, "b@example.com")
    body = {"roomName": "room-a", "participantName": "A"}
    assert (await client.post("/api/livekit/token", json=body, headers=mine)).status_code == 200
    taken = await client.post("/api/livekit/token", json=body, headers=theirs)
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "room_taken"
    assert (await client.post("/api/livekit/token", json=body)).status_code == 401
    for bad in ("", "../etc", "room with spaces", "x" * 129):
        r = await client.post(
            "/api/livekit/token", json={"roomName": bad, "participantName": "A"}, headers=mine
        )
        assert r.status_code == 422 and "roomName" in r.json()["error"]["message"], bad


async def test_without_livekit_the_endpoint_says_so() -> None:
    c = in_process_client()
    app = create_app(
        settings(livekit_url=None, livekit_api_key=None, livekit_api_secret=None),
        analyzer=OfflineCoach(),
        database=(c, c["coach"]),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            _, h = await user(http, "n@example.com")
            r = await http.post(
                "/api/livekit/token", json={"roomName": "r", "participantName": "A"}, headers=h
            )
    assert r.status_code == 503 and r.json()["error"]["code"] == "livekit_not_configured"


def test_bot_tokens() -> None:
    config = LiveKitConfig.from_settings(settings())
    listener = decode(config.listener_token("room-1"))["video"]
    assert listener["hidden"] is True and listener["canSubscribe"] is True
    assert listener["canPublish"] is False and listener["room"] == "room-1"
    assert not listener.get("roomAdmin") and not listener.get("roomRecord")
    speaker = decode(config.interviewer_token("room-1"))
    assert speaker["video"]["canPublishSources"] == ["microphone"]
    assert not speaker["video"].get("roomAdmin")
