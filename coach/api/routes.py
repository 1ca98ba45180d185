"""REST routes under /api plus /health and /openapi.json, each declared once with its schemas."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coach.api.errors import ApiError
from coach.api.schemas import (
    Accepted,
    AccountOut,
    AnalyzeRequest,
    Credentials,
    ErrorOut,
    ExportOut,
    GoalsIn,
    GoalsOut,
    Health,
    InterviewOut,
    InterviewPage,
    LiveKitToken,
    LiveKitTokenRequest,
    Me,
    MeasureOut,
    PasswordChange,
    ProgressOut,
    Registered,
    SampleOut,
    TicketOut,
    TokenOut,
)
from coach.auth.passwords import weakness
from coach.auth.users import EmailTaken
from coach.erasure import erase_user
from coach.interviews.progress import (
    Judged,
    Measured,
    MeasureProgress,
    Record,
    content_measures,
    progress,
)
from coach.livekit.dispatch import JobMetadata
from coach.livekit.egress import verify_webhook
from coach.livekit.rooms import claim_room
from coach.store.documents import Interview, User
from coach.validation import first_error

log = logging.getLogger("coach.api")

Handler = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, uvicorn's `--proxy-headers` sets it)."""
    return request.client.host if request.client is not None else "unknown"


async def _body(request: Request, model: type[M]) -> M:
    limit: int = request.app.state.services.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # stop reading: a client must not make us buffer a gigabyte to refuse it
            raise ApiError(413, "payload_too_large", f"body exceeds {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw or b"null", parse_float=_number, parse_constant=_no_constant)
    except ApiError:
        raise
    except (ValueError, RecursionError) as e:
        # the decoder's position only: never the body, never a traceback
        where = f" at byte {e.pos}" if isinstance(e, json.JSONDecodeError) else ""
        raise ApiError(400, "bad_json", f"body is not JSON{where}") from e
    try:
        # strict: what the OpenAPI document allows is what is accepted ("1.5" is no number)
        parsed = model.model_validate(data, strict=True)
    except ValidationError as e:
        raise ApiError(422, "validation_error", first_error(e, whole="body")) from e
    # only the fields the model keeps: unknown ones are ignored, whatever their size
    if not _fits_int64(parsed.model_dump()):
        # MongoDB stores at most 8-byte integers; the OpenAPI document says so too
        raise ApiError(422, "validation_error", "body: integers must fit in 64 bits")
    return parsed


INT64 = (-(2**63), 2**63 - 1)


def _fits_int64(node: Any) -> bool:
    if isinstance(node, bool):
        return True
    if isinstance(node, int):
        return INT64[0] <= node <= INT64[1]
    if isinstance(node, dict):
        return all(_fits_int64(v) for v in node.values())
    if isinstance(node, list | tuple):
        return all(_fits_int64(v) for v in node)
    return True


def _number(text: str) -> float | int:
    value = float(text)
    if math.isinf(value):
        raise ApiError(422, "validation_error", "body: numbers must be finite")
    # JSON Schema counts 7.0 as an integer, so the server does too (a float field takes it)
    return int(value) if value.is_integer() else value


def _no_constant(text: str) -> float:
    raise ApiError(400, "bad_json", f"body is not JSON: {text} is not a JSON number")


def _json(model: BaseModel, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status)


async def current_user(request: Request) -> User:
    """The user of the request's bearer token; 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "missing bearer token")
    services = request.app.state.services
    claims = services.tokens.verify(token)
    if claims is None:
        raise ApiError(401, "unauthorized", "invalid or expired token")
    user: User | None = await services.users.bearer(claims)
    if user is None:
        raise ApiError(401, "unauthorized", "signed out, or the user no longer exists")
    return user


async def register(request: Request) -> Response:
    """Create an account and sign it in."""
    svc = request.app.state.services
    await svc.rate_limits.hit("register", address=client_address(request))
    creds = await _body(request, Credentials)
    if (why := weakness(creds.password, creds.email)) is not None:
        raise ApiError(400, "weak_password", why)
    try:
        user = await svc.users.register(creds.email, creds.password)
    except EmailTaken as e:
        raise ApiError(409, "email_taken", "an account with this email exists") from e
    return _json(
        Registered(
            id=user.id, email=user.email, token=svc.tokens.issue(user.id, user.token_version)
        ),
        201,
    )


async def login(request: Request) -> Response:
    """Exchange email + password for a token."""
    creds = await _body(request, Credentials)
    svc = request.app.state.services
    email, address = creds.email.lower(), client_address(request)
    await svc.rate_limits.login_allowed(email, address)
    user = await svc.users.authenticate(email, creds.password)
    if user is None:
        await svc.rate_limits.login_failed(email, address)
        raise ApiError(401, "bad_credentials", "wrong email or password")
    await svc.rate_limits.login_succeeded(email, address)
    return _json(TokenOut(token=svc.tokens.issue(user.id, user.token_version)))


async def sign_out_everywhere(request: Request) -> Response:
    """Revoke every token and ticket of the user; sign in again to get a new token."""
    user = await current_user(request)
    svc = request.app.state.services
    await svc.users.revoke_tokens(user.id)
    svc.tickets.revoke_user(user.id)
    return Response(status_code=204)


async def change_password(request: Request) -> Response:
    """Change the password: every earlier token and ticket dies; the answer is a fresh token."""
    user = await current_user(request)
    svc = request.app.state.services
    await svc.rate_limits.hit("password", address=client_address(request), account=user.id)
    body = await _body(request, PasswordChange)
    if (why := weakness(body.new_password, user.email)) is not None:
        raise ApiError(400, "weak_password", why)
    version = await svc.users.change_password(user, body.current_password, body.new_password)
    if version is None:
        raise ApiError(403, "wrong_password", "the current password is not right")
    svc.tickets.revoke_user(user.id)
    return _json(TokenOut(token=svc.tokens.issue(user.id, version)))


async def ws_ticket(request: Request) -> Response:
    """A single-use ticket that opens one WebSocket within seconds: no JWT in any URL."""
    user = await current_user(request)
    services = request.app.state.services
    await services.rate_limits.hit("ws_ticket", address=client_address(request), account=user.id)
    tickets = services.tickets
    return _json(TicketOut(ticket=tickets.issue(user.id), expires_in=tickets.ttl), 201)


async def me(request: Request) -> Response:
    """The current user, or erase them with all their interviews and recordings."""
    user = await current_user(request)
    svc = request.app.state.services
    if request.method == "DELETE":
        await erase_user(svc, user.id)
        return Response(status_code=204)
    return _json(Me(id=user.id, email=user.email, created_at=user.created_at))


async def analyze(request: Request) -> Response:
    """Store an interview as processing and analyze it in the background."""
    user = await current_user(request)
    await request.app.state.services.rate_limits.hit(
        "analyze", address=client_address(request), account=user.id
    )
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key: 1 to 255 printable characters")
    body = await _body(request, AnalyzeRequest)
    interview = await request.app.state.services.interviews.submit(
        user.id,
        body.room_name,
        body.participant_identity,
        body.session_data,
        idempotency_key=None if key is None else f"client:{key}",
    )
    return _json(Accepted(id=interview.id, status=interview.status), 202)


def _record(iv: Interview) -> Record | None:
    # what the analysis judged, so the page and the coaching never disagree about a number
    a = iv.ai_analysis
    if a is None:
        return None
    measured = [Measured("overall", "Overall score", float(a.overall_score), "/100")]
    measured += [Measured(f.measure, f.label, f.value, f.unit, f.band.good) for f in a.findings]
    measured += content_measures(
        [
            Judged(f.measure, f.label, f.value, f.unit, f.band.good, f.verdict)
            for answer in a.content
            for f in answer.findings
        ]
    )
    return Record(iv.id, iv.created_at, tuple(measured), "drill" if iv.drill else "interview")


def _measure_out(m: MeasureProgress) -> MeasureOut:
    return MeasureOut(
        measure=m.measure,
        label=m.label,
        unit=m.unit,
        better=m.better,
        good=m.good,
        latest=m.latest,
        change=m.change,
        recent_mean=m.recent_mean,
        change_over_recent=m.change_over_recent,
        improved=m.improved,
        goal=m.goal,
        goal_met=m.goal_met,
        samples=[
            SampleOut(interview_id=s.interview_id, at=s.at, value=s.value, kind=s.kind)
            for s in m.samples
        ],
    )


async def my_progress(request: Request) -> Response:
    """Each measure over the user's analyzed interviews, its change, and their goals."""
    user = await current_user(request)
    raw = request.query_params.get("last", "5")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise ApiError(400, "bad_query", "last: must be an integer 1..50")
    last = int(raw)
    done = await request.app.state.services.interviews.list(
        user.id, status="completed", before=None, limit=0
    )
    records = [r for r in map(_record, done) if r is not None]
    measures = [_measure_out(m) for m in progress(records, user.goals, last_n=last)]
    return _json(
        ProgressOut(
            interviews=len(records),
            drills=sum(1 for r in records if r.kind == "drill"),
            last=last,
            measures=measures,
            goals=user.goals,
        )
    )


async def my_export(request: Request) -> Response:
    """Everything stored about the user, as one JSON document to download."""
    user = await current_user(request)
    found = await request.app.state.services.interviews.list(
        user.id, status=None, before=None, limit=0
    )
    export = ExportOut(
        exported_at=dt.datetime.now(dt.UTC),
        account=AccountOut(
            id=user.id, email=user.email, created_at=user.created_at, goals=user.goals
        ),
        interviews=[InterviewOut.model_validate(i.to_wire()) for i in found],
    )
    response = _json(export)
    stamp = export.exported_at.strftime("%Y%m%d")
    response.headers["content-disposition"] = f'attachment; filename="coach-export-{stamp}.json"'
    return response


async def my_goals(request: Request) -> Response:
    """Read or replace the user's goals."""
    user = await current_user(request)
    if request.method == "PUT":
        body = await _body(request, GoalsIn)
        user.goals = {str(k): float(v) for k, v in body.goals.items()}
        await user.save()
    return _json(GoalsOut(goals=user.goals))


async def list_interviews(request: Request) -> Response:
    """The user's interviews, newest first, cursor-paginated."""
    user = await current_user(request)
    status = request.query_params.get("status")
    if status is not None and status not in ("processing", "completed", "failed"):
        raise ApiError(400, "bad_query", "status: must be processing, completed or failed")
    try:
        # an integer as the OpenAPI document says: not `limit=` (empty), " 5", non-ASCII digits
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isascii() or not raw_limit.lstrip("-").isdigit():
            raise ValueError(raw_limit)
        limit = int(raw_limit)
    except ValueError as e:
        raise ApiError(400, "bad_query", "limit: must be an integer") from e
    if not 1 <= limit <= 100:
        raise ApiError(400, "bad_query", "limit: must be 1..100")
    found = await request.app.state.services.interviews.list(
        user.id, status=status, before=request.query_params.get("cursor"), limit=limit
    )
    items = [InterviewOut.model_validate(i.to_wire()) for i in found]
    cursor = items[-1].id if len(items) == limit else None
    return _json(InterviewPage(items=items, next_cursor=cursor))


async def interview(request: Request) -> Response:
    """Read or delete one interview of the user."""
    user = await current_user(request)
    svc = request.app.state.services
    iid = request.path_params["id"]
    if request.method == "DELETE":
        if not await svc.interviews.delete(user.id, iid):
            raise ApiError(404, "not_found", "no such interview")
        # a recording still being encoded would be written after the deletion
        await svc.sessions.recording_settled(iid)
        for path in svc.sessions.recording_files(iid):
            path.unlink(missing_ok=True)
        return Response(status_code=204)
    found = await svc.interviews.get(user.id, iid)
    if found is None:
        raise ApiError(404, "not_found", "no such interview")
    return _json(InterviewOut.model_validate(found.to_wire()))


async def recording(request: Request) -> Response:
    """The interview's audio (stream mode), with range requests so players can seek."""
    user = await current_user(request)
    services = request.app.state.services
    iid = request.path_params["id"]
    found = await services.interviews.get(user.id, iid)
    data = await services.sessions.open_recording(user.id, iid) if found is not None else None
    if data is None:
        raise ApiError(404, "not_found", "no recording for this interview")
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f'attachment; filename="interview-{iid}.ogg"',
    }
    wanted = _byte_range(request.headers.get("range"), len(data))
    if wanted is None:
        return Response(data, media_type="audio/ogg", headers=headers)
    start, end = wanted
    headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], status_code=206, media_type="audio/ogg",
                    headers=headers)  # fmt: skip


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single `bytes=a-b` range a player asks for, clamped; None for the whole file."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first:
            start = int(first)
            end = int(last) if last else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return None
    return start, min(end, size - 1)


async def retry(request: Request) -> Response:
    """Send a failed interview back to processing."""
    user = await current_user(request)
    services = request.app.state.services
    await services.rate_limits.hit("retry", address=client_address(request), account=user.id)
    iid = request.path_params["id"]
    found = await services.interviews.retry(user.id, iid)
    if found is None:
        raise ApiError(404, "not_found", "no such interview")
    if found.status == "completed":
        raise ApiError(409, "not_failed", "only a failed interview can be retried")
    return _json(Accepted(id=iid, status=found.status), 202)


async def livekit_token(request: Request) -> Response:
    """A LiveKit token for one of the user's rooms (the first to ask for a room owns it)."""
    user = await current_user(request)
    services = request.app.state.services
    await services.rate_limits.hit(
        "livekit_token", address=client_address(request), account=user.id
    )
    body = await _body(request, LiveKitTokenRequest)
    config = services.livekit
    if config is None:
        raise ApiError(
            503, "livekit_not_configured", "LiveKit is not configured; use stream mode instead"
        )
    if not await claim_room(user.id, body.room_name, request.app.state.services.settings.room_hold):
        raise ApiError(403, "room_taken", "this room belongs to another user")
    # Every token carries the dispatch; LiveKit acts on it only when the join creates the room.
    job = JobMetadata(
        interview_id=uuid.uuid4().hex,
        user_id=user.id,
        participant_identity=user.id,
        plan=body.plan,
    )
    token = config.candidate_token(body.room_name, user.id, body.participant_name, job)
    return _json(LiveKitToken(token=token, url=config.url, interview_id=job.interview_id))


async def livekit_webhook(request: Request) -> Response:
    """LiveKit's webhooks, signed with the API secret; `egress_ended` stores recordings."""
    services = request.app.state.services
    config = services.livekit
    if config is None:
        raise ApiError(503, "livekit_not_configured", "LiveKit is not configured")
    raw = await request.body()
    if len(raw) > services.settings.max_body_bytes:
        raise ApiError(413, "payload_too_large", "webhook body too large")
    try:
        event = verify_webhook(config, raw.decode("utf-8", "replace"), request.headers.get(
            "authorization", ""))  # fmt: skip
    except ValueError as e:
        log.warning("LiveKit webhook refused: %s", e)
        raise ApiError(401, "bad_signature", "webhook signature rejected") from e
    if event.event == "egress_ended" and services.egress is not None:
        await services.egress.ended(event.egress_info)
    return Response(status_code=204)


async def health(request: Request) -> Response:
    """Liveness plus a database ping."""
    try:
        await request.app.state.services.db.command("ping")
    except Exception as e:  # any DB failure means not ready; the reason is for the log only
        log.error("health check: database unreachable: %s", e)
        raise ApiError(503, "database_unavailable", "database unreachable") from e
    return _json(Health(status="ok"))


@dataclass(frozen=True)
class Endpoint:
    """One route: its handler, and what the OpenAPI document says about it."""

    path: str
    methods: dict[str, Handler]
    summary: str
    body: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    auth: bool = True
    query: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    media: str = "application/json"


_AUTH = (401,)

ENDPOINTS = [
    Endpoint("/health", {"get": health}, "Liveness and a database ping",
             responses={200: Health}, errors=(503,), auth=False),
    Endpoint("/api/auth/register", {"post": register},
             "Create an account (the 10,000 most common passwords are refused: 400 weak_password)",
             body=Credentials, responses={201: Registered},
             errors=(400, 409, 413, 422, 429, 503),
             auth=False),
    Endpoint("/api/auth/login", {"post": login}, "Sign in",
             body=Credentials, responses={200: TokenOut}, errors=(400, 401, 413, 422, 429, 503),
             auth=False),
    Endpoint("/api/auth/ws-ticket", {"post": ws_ticket},
             "A single-use WebSocket ticket for `?ticket=` (browsers cannot send headers)",
             responses={201: TicketOut}, errors=(*_AUTH, 429, 503)),
    Endpoint("/api/me/password", {"post": change_password},
             "Change the password: every earlier token stops working; answers a fresh token",
             body=PasswordChange, responses={200: TokenOut},
             errors=(*_AUTH, 400, 403, 413, 422, 429, 503)),
    Endpoint("/api/me/sign-out-everywhere", {"post": sign_out_everywhere},
             "Revoke every token of the signed-in user (all devices sign in again)",
             responses={204: None}, errors=(*_AUTH, 503)),
    Endpoint("/api/me", {"get": me, "delete": me}, "The signed-in user (DELETE erases all)",
             responses={200: Me, 204: None}, errors=(*_AUTH, 503)),
    Endpoint("/api/me/progress", {"get": my_progress},
             "Each measure over your analyzed interviews: values, change, goals met",
             responses={200: ProgressOut}, errors=(*_AUTH, 400, 503),
             query=(("last", "interviews the recent mean is over, 1..50, default 5",
                     {"type": "integer", "minimum": 1, "maximum": 50}),)),
    Endpoint("/api/me/export", {"get": my_export},
             "Everything stored about you (account, goals, interviews with analyses; "
             "recordings as links) as one JSON document",
             responses={200: ExportOut}, errors=(*_AUTH, 503)),
    Endpoint("/api/me/goals", {"get": my_goals, "put": my_goals},
             "Your goals: at most so many fillers a minute, at least such an overall score",
             body=GoalsIn, responses={200: GoalsOut}, errors=(*_AUTH, 400, 413, 422, 503)),
    Endpoint("/api/interviews/analyze", {"post": analyze},
             "Store a session summary and analyze it in the background",
             body=AnalyzeRequest, responses={202: Accepted},
             errors=(*_AUTH, 400, 413, 422, 429, 503)),
    Endpoint("/api/interviews", {"get": list_interviews}, "The user's interviews, newest first",
             responses={200: InterviewPage}, errors=(*_AUTH, 400, 503),
             query=(("status", "processing | completed | failed",
                     {"type": "string", "enum": ["processing", "completed", "failed"]}),
                    ("limit", "1..100, default 20",
                     {"type": "integer", "minimum": 1, "maximum": 100}),
                    ("cursor", "nextCursor of the previous page", {"type": "string"}))),
    Endpoint("/api/interviews/{id}", {"get": interview, "delete": interview},
             "One interview (DELETE removes it and its recording)",
             responses={200: InterviewOut, 204: None}, errors=(*_AUTH, 404, 503)),
    Endpoint("/api/interviews/{id}/retry", {"post": retry}, "Analyze a failed interview again",
             responses={202: Accepted}, errors=(*_AUTH, 404, 409, 429, 503)),
    Endpoint("/api/livekit/token", {"post": livekit_token},
             "A LiveKit token to join one of your rooms with a microphone",
             body=LiveKitTokenRequest, responses={200: LiveKitToken},
             errors=(*_AUTH, 400, 403, 413, 422, 429, 503)),
    Endpoint("/api/livekit/webhook", {"post": livekit_webhook},
             "LiveKit webhooks (Authorization: LiveKit's signed token)",
             responses={204: None}, errors=(401, 413, 503), auth=False),
    Endpoint("/api/interviews/{id}/recording", {"get": recording},
             "The interview's audio, Opus in OGG (stream mode); supports Range",
             responses={200: None}, errors=(*_AUTH, 404, 503), media="audio/ogg"),
]  # fmt: skip


def _route(endpoint: Endpoint) -> Route:
    handlers = endpoint.methods
    first = next(iter(handlers.values()))
    if len(set(handlers.values())) > 1:
        raise ValueError(f"{endpoint.path}: one handler per path")
    return Route(endpoint.path, first, methods=[m.upper() for m in handlers])


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, generated from the same models the routes validate with."""
    models: set[type[BaseModel]] = {ErrorOut}
    for e in ENDPOINTS:
        if e.body is not None:
            models.add(e.body)
        models.update(m for m in e.responses.values() if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, defs = models_json_schema(
        [(m, "validation" if any(e.body is m for e in ENDPOINTS) else "serialization")
         for m in ordered],
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )  # fmt: skip
    schemas = dict(defs.get("$defs", {}))
    _bound_integers(schemas)

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    paths: dict[str, dict[str, Any]] = {}
    reasons = {400: "Bad input", 401: "No or bad token", 404: "Not found or not yours",
               403: "Not yours", 409: "Conflict", 413: "Body too large", 422: "Invalid field",
               429: "Over a rate limit; retry after Retry-After seconds",
               503: "Database unavailable"}  # fmt: skip
    for e in ENDPOINTS:
        for method in e.methods:
            op: dict[str, Any] = {"summary": e.summary, "responses": {}}
            params = [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            ] if "{id}" in e.path else []  # fmt: skip
            if method == "get":
                params += [
                    {"name": n, "in": "query", "required": False, "description": d,
                     "schema": schema}
                    for n, d, schema in e.query
                ]  # fmt: skip
            if params:
                op["parameters"] = params
            if e.body is not None and method != "get":
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(e.body)}},
                }
            for status, model in e.responses.items():
                # on a path with GET and DELETE, the 204 is DELETE's and the body GET's
                if len(e.methods) > 1 and (status == 204) != (method == "delete"):
                    continue
                if model is None:
                    content: dict[str, Any] | None = {e.media: {}} if status != 204 else None
                    op["responses"][str(status)] = {"description": "OK", **(
                        {"content": content} if content else {})}  # fmt: skip
                else:
                    op["responses"][str(status)] = {
                        "description": "OK",
                        "content": {"application/json": {"schema": ref(model)}},
                    }
            for status in e.errors:
                op["responses"][str(status)] = {
                    "description": reasons[status],
                    "content": {"application/json": {"schema": ref(ErrorOut)}},
                }
                if status == 429:
                    op["responses"]["429"]["headers"] = {
                        "Retry-After": {"required": True, "schema": {"type": "integer"}}
                    }
            if e.auth:
                op["security"] = [{"bearer": []}]
            paths.setdefault(e.path, {})[method] = op
    del keys
    return {
        "openapi": "3.1.0",
        "info": {"title": "coach", "version": "1",
                 "description": "Interview coaching; the WebSocket is in docs/protocol.md"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }  # fmt: skip


def _bound_integers(node: Any) -> None:
    """Every integer is documented as what the server accepts: 64 bits at most."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("format", "int64")
            node.setdefault("minimum", INT64[0])
            node.setdefault("maximum", INT64[1])
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


async def openapi(request: Request) -> Response:
    """The OpenAPI document."""
    return JSONResponse(openapi_document())


ROUTES = [*(_route(e) for e in ENDPOINTS), Route("/openapi.json", openapi, methods=["GET"])]
