"""The interviews service used by both the REST API and live sessions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from coach.analysis.base import Analyzer
from coach.speech.summary import SessionSummary

log = logging.getLogger("coach.interviews")


@dataclass(frozen=True)
class ServiceOptions:
    """Tunables for analysis jobs, from ANALYSIS_LEASE_SECONDS and its neighbours in settings."""

    lease_seconds: float = 300.0
    max_concurrent_analyses: int = 2
    recovery_interval_seconds: float = 60.0


def _now() -> dt.datetime:
    # BSON keeps milliseconds; truncate so stored and returned values agree.
    n = dt.datetime.now(dt.UTC)
    return n.replace(microsecond=n.microsecond // 1000 * 1000)


def to_wire(doc: dict[str, Any]) -> dict[str, Any]:
    """An interview document as the wire shape (id as string, ISO datetimes)."""
    out = {k: v for k, v in doc.items() if k not in ("_id", "leaseUntil", "participantIdentity")}
    out["id"] = str(doc["_id"])
    created = doc["createdAt"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    out["createdAt"] = created.isoformat()
    return out


class InterviewService:
    """Stores interviews and runs their analysis in owned background tasks."""

    def __init__(self, db: Any, analyzer: Analyzer, options: ServiceOptions | None = None) -> None:
        self._col = db.interviews
        self._analyzer = analyzer
        self.options = options or ServiceOptions()
        self._sem = asyncio.Semaphore(self.options.max_concurrent_analyses)
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: dict[str, asyncio.Event] = {}
        self._recovery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Pick up expired leases now and periodically."""
        self._recovery = asyncio.create_task(self._recover_loop(), name="interviews-recovery")

    async def aclose(self) -> None:
        """Cancel and await every task this service owns."""
        tasks = list(self._tasks) + ([self._recovery] if self._recovery else [])
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def submit(
        self, user_id: str, room_name: str, participant_identity: str, summary: SessionSummary
    ) -> dict[str, Any]:
        """Store a processing interview (idempotent per user/room/participant) and analyze it."""
        key = {
            "userId": user_id,
            "roomName": room_name,
            "participantIdentity": participant_identity,
        }
        existing = await self._col.find_one(key)
        if existing is not None:
            return dict(existing)
        doc: dict[str, Any] = {
            "_id": uuid.uuid4().hex,
            **key,
            "createdAt": _now(),
            **summary.model_dump(by_alias=True),
            "aiAnalysis": None,
            "status": "processing",
            "leaseUntil": None,
        }
        await self._col.insert_one(doc)
        self._spawn(doc["_id"])
        return doc

    def completion(self, interview_id: str) -> asyncio.Event:
        """An event set when this interview's analysis finishes (completed or failed)."""
        return self._done.setdefault(interview_id, asyncio.Event())

    async def get(self, user_id: str, interview_id: str) -> dict[str, Any] | None:
        """The user's interview, or None (also for another user's)."""
        doc = await self._col.find_one({"_id": interview_id, "userId": user_id})
        return dict(doc) if doc else None

    async def list(
        self, user_id: str, *, status: str | None, before: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Newest first; `before` is the last id of the previous page."""
        query: dict[str, Any] = {"userId": user_id}
        if status:
            query["status"] = status
        if before:
            anchor = await self._col.find_one({"_id": before, "userId": user_id})
            if anchor is None:
                return []
            query["$or"] = [
                {"createdAt": {"$lt": anchor["createdAt"]}},
                {"createdAt": anchor["createdAt"], "_id": {"$lt": before}},
            ]
        cursor = self._col.find(query).sort([("createdAt", -1), ("_id", -1)]).limit(limit)
        return [dict(d) async for d in cursor]

    async def delete(self, user_id: str, interview_id: str) -> bool:
        """Delete the user's interview; False if not theirs or missing."""
        res = await self._col.delete_one({"_id": interview_id, "userId": user_id})
        return bool(res.deleted_count)

    async def set_recording(self, interview_id: str, url: str) -> None:
        """Record where the interview's audio can be played from."""
        await self._col.update_one({"_id": interview_id}, {"$set": {"recordingUrl": url}})

    async def delete_all(self, user_id: str) -> None:
        """Erase every interview of a user."""
        await self._col.delete_many({"userId": user_id})

    async def retry(self, user_id: str, interview_id: str) -> dict[str, Any] | None:
        """Send a failed interview back to processing; None if missing; unchanged unless failed."""
        doc = await self._col.find_one_and_update(
            {"_id": interview_id, "userId": user_id, "status": "failed"},
            {"$set": {"status": "processing", "leaseUntil": None}, "$unset": {"error": ""}},
            return_document=True,
        )
        if doc is None:
            return await self.get(user_id, interview_id)
        self._spawn(interview_id)
        return dict(doc)

    def _spawn(self, interview_id: str) -> None:
        task = asyncio.create_task(self._analyze(interview_id), name=f"analyze-{interview_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _claim(self, interview_id: str | None) -> dict[str, Any] | None:
        now = _now()
        query: dict[str, Any] = {
            "status": "processing",
            "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}],
        }
        if interview_id is not None:
            query["_id"] = interview_id
        lease = now + dt.timedelta(seconds=self.options.lease_seconds)
        doc = await self._col.find_one_and_update(
            query, {"$set": {"leaseUntil": lease}}, return_document=True
        )
        return dict(doc) if doc else None

    async def _analyze(self, interview_id: str | None) -> None:
        async with self._sem:
            doc = await self._claim(interview_id)
            if doc is None:
                return
            iid = str(doc["_id"])
            try:
                summary = SessionSummary.model_validate(doc)
                analysis = await self._analyzer.analyze(summary)
                update: dict[str, Any] = {
                    "$set": {
                        "status": "completed",
                        "aiAnalysis": analysis.model_dump(by_alias=True),
                    },
                    "$unset": {"leaseUntil": ""},
                }
            except asyncio.CancelledError:
                raise
            except Exception as e:  # an analyzer failure must mark the job, not kill the loop
                log.warning("analysis of %s failed: %s", iid, e)
                update = {
                    "$set": {"status": "failed", "error": str(e)},
                    "$unset": {"leaseUntil": ""},
                }
            await self._col.update_one({"_id": iid, "status": "processing"}, update)
            self.completion(iid).set()

    async def recover_once(self) -> None:
        """Analyze every processing interview whose lease is absent or expired."""
        cursor = self._col.find({"status": "processing"}, {"_id": 1, "leaseUntil": 1})
        now = _now()
        async for d in cursor:
            lease = d.get("leaseUntil")
            if lease is not None and lease.tzinfo is None:
                lease = lease.replace(tzinfo=dt.UTC)
            if lease is None or lease < now:
                self._spawn(str(d["_id"]))

    async def _recover_loop(self) -> None:
        while True:
            try:
                await self.recover_once()
            except Exception as e:  # a DB outage must not end recovery for good
                log.warning("recovery pass failed: %s", e)
            await asyncio.sleep(self.options.recovery_interval_seconds)
