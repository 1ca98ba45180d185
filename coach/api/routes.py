"""REST routes under /api plus /health and /openapi.json."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict, deque
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from coach.api.errors import ApiError
from coach.auth.tokens import hash_password, verify_password
from coach.interviews.service import to_wire
from coach.speech.summary import SessionSummary

log = logging.getLogger("coach.api")
MAX_BODY_BYTES = 5 * 1024 * 1024


class Credentials(BaseModel):
    """Register/login body."""

    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=256)


class AnalyzeRequest(BaseModel):
    """POST /api/interviews/analyze body."""

    roomName: str = Field(min_length=1, max_length=200)
    participantIdentity: str = Field(min_length=1, max_length=200)
    sessionData: SessionSummary


class LoginLimiter:
    """Sliding-window limit of login attempts per email."""

    def __init__(self, attempts: int = 5, window_seconds: float = 60.0) -> None:
        self.attempts, self.window = attempts, window_seconds
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        """Record an attempt; False when over the limit."""
        now = time.monotonic()
        q = self._seen[key]
        while q and q[0] < now - self.window:
            q.popleft()
        if len(q) >= self.attempts:
            return False
        q.append(now)
        return True


async def _body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except ValueError as e:
        raise ApiError(400, "bad_json", f"body is not JSON: {e}") from e
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "validation_error", f"{field}: {first['msg']}") from e


def _user(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "missing bearer token")
    user_id = request.app.state.services.tokens.verify(token)
    if user_id is None:
        raise ApiError(401, "unauthorized", "invalid or expired token")
    return str(user_id)


async def _current_user(request: Request) -> dict[str, Any]:
    user_id = _user(request)
    user = await request.app.state.services.db.users.find_one({"_id": user_id})
    if user is None:
        raise ApiError(401, "unauthorized", "user no longer exists")
    return dict(user)


async def register(request: Request) -> Response:
    """Create an account."""
    creds = await _body(request, Credentials)
    svc = request.app.state.services
    email = creds.email.lower()
    if await svc.db.users.find_one({"email": email}):
        raise ApiError(409, "email_taken", "an account with this email exists")
    uid = uuid.uuid4().hex
    await svc.db.users.insert_one(
        {"_id": uid, "email": email, "passwordHash": hash_password(creds.password)}
    )
    return JSONResponse(
        {"id": uid, "email": email, "token": svc.tokens.issue(uid)}, status_code=201
    )


async def login(request: Request) -> Response:
    """Exchange email + password for a token."""
    creds = await _body(request, Credentials)
    svc = request.app.state.services
    email = creds.email.lower()
    if not svc.login_limiter.allow(email):
        raise ApiError(429, "too_many_attempts", "too many login attempts; wait a minute")
    user = await svc.db.users.find_one({"email": email})
    if user is None or not verify_password(user["passwordHash"], creds.password):
        raise ApiError(401, "bad_credentials", "wrong email or password")
    return JSONResponse({"token": svc.tokens.issue(str(user["_id"]))})


async def me(request: Request) -> Response:
    """The current user, or erase them."""
    user = await _current_user(request)
    svc = request.app.state.services
    if request.method == "DELETE":
        for doc in await svc.interviews.list(user["_id"], status=None, before=None, limit=0):
            svc.sessions.recording_path(str(doc["_id"])).unlink(missing_ok=True)
        await svc.interviews.delete_all(user["_id"])
        await svc.db.users.delete_one({"_id": user["_id"]})
        return Response(status_code=204)
    return JSONResponse({"id": user["_id"], "email": user["email"]})


async def analyze(request: Request) -> Response:
    """Store an interview as processing and analyze it in the background."""
    user = await _current_user(request)
    body = await _body(request, AnalyzeRequest)
    doc = await request.app.state.services.interviews.submit(
        user["_id"], body.roomName, body.participantIdentity, body.sessionData
    )
    return JSONResponse({"id": str(doc["_id"]), "status": doc["status"]}, status_code=202)


async def list_interviews(request: Request) -> Response:
    """The user's interviews, newest first, cursor-paginated."""
    user = await _current_user(request)
    status = request.query_params.get("status")
    if status is not None and status not in ("processing", "completed", "failed"):
        raise ApiError(400, "bad_query", "status: must be processing, completed or failed")
    try:
        limit = int(request.query_params.get("limit", "20"))
    except ValueError as e:
        raise ApiError(400, "bad_query", "limit: must be an integer") from e
    if not 1 <= limit <= 100:
        raise ApiError(400, "bad_query", "limit: must be 1..100")
    docs = await request.app.state.services.interviews.list(
        user["_id"], status=status, before=request.query_params.get("cursor"), limit=limit
    )
    items = [to_wire(d) for d in docs]
    cursor = items[-1]["id"] if len(items) == limit else None
    return JSONResponse({"items": items, "nextCursor": cursor})


async def interview(request: Request) -> Response:
    """Read or delete one interview of the user."""
    user = await _current_user(request)
    svc = request.app.state.services.interviews
    iid = request.path_params["id"]
    if request.method == "DELETE":
        if not await svc.delete(user["_id"], iid):
            raise ApiError(404, "not_found", "no such interview")
        request.app.state.services.sessions.recording_path(iid).unlink(missing_ok=True)
        return Response(status_code=204)
    doc = await svc.get(user["_id"], iid)
    if doc is None:
        raise ApiError(404, "not_found", "no such interview")
    return JSONResponse(to_wire(doc))


async def recording(request: Request) -> Response:
    """The interview's audio (stream mode), with range requests so players can seek."""
    user = await _current_user(request)
    services = request.app.state.services
    iid = request.path_params["id"]
    doc = await services.interviews.get(user["_id"], iid)
    path = services.sessions.recording_path(iid)
    if doc is None or not path.is_file():
        raise ApiError(404, "not_found", "no recording for this interview")
    return FileResponse(path, media_type="audio/ogg", filename=f"interview-{iid}.ogg")


async def retry(request: Request) -> Response:
    """Send a failed interview back to processing."""
    user = await _current_user(request)
    iid = request.path_params["id"]
    doc = await request.app.state.services.interviews.retry(user["_id"], iid)
    if doc is None:
        raise ApiError(404, "not_found", "no such interview")
    if doc["status"] == "completed":
        raise ApiError(409, "not_failed", "only a failed interview can be retried")
    return JSONResponse({"id": iid, "status": doc["status"]}, status_code=202)


async def health(request: Request) -> Response:
    """Liveness plus a database ping."""
    try:
        await request.app.state.services.db.command("ping")
    except Exception as e:  # any DB failure means not ready
        raise ApiError(503, "db_unavailable", f"database unreachable: {e}") from e
    return JSONResponse({"status": "ok"})


async def openapi(request: Request) -> Response:
    """A minimal OpenAPI document built from the request models."""
    schemas = {
        m.__name__: m.model_json_schema(by_alias=True) for m in (Credentials, AnalyzeRequest)
    }
    paths: dict[str, dict[str, Any]] = {str(getattr(r, "path", "")): {} for r in ROUTES}
    return JSONResponse(
        {
            "openapi": "3.1.0",
            "info": {"title": "coach", "version": "0"},
            "paths": paths,
            "components": {"schemas": schemas},
        }
    )


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/api/auth/register", register, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/me", me, methods=["GET", "DELETE"]),
    Route("/api/interviews/analyze", analyze, methods=["POST"]),
    Route("/api/interviews", list_interviews, methods=["GET"]),
    Route("/api/interviews/{id}", interview, methods=["GET", "DELETE"]),
    Route("/api/interviews/{id}/retry", retry, methods=["POST"]),
    Route("/api/interviews/{id}/recording", recording, methods=["GET"]),
]
