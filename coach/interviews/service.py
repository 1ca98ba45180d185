"""The interviews service used by both the REST API and live sessions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from beanie import SortDirection
from pymongo import ReturnDocument

from coach.analysis.base import Analyzer
from coach.drills import DrillSpec
from coach.encryption import EncryptionError
from coach.error_reports import report_error
from coach.speech.summary import SessionSummary
from coach.store.documents import Interview, Status, now
from coach.usage import LlmCall, Usage, collecting

if TYPE_CHECKING:
    from coach.encryption import DataKeys
    from coach.metrics import Metrics

log = logging.getLogger("coach.interviews")

ANALYSIS_FAILED = "the analysis could not be completed; retry it"

# What a candidate said, sealed with their data key: the words and everything quoting them.
# In clear stays what queries and operations need: ids, owner, room, status, dates, lease,
# idempotency key, the recording's link and the aggregate numbers (duration, word count,
# pace, speaking time, the pace timeline, vocal variety), which quote nothing.
SEALED = (
    "transcript",
    "words",
    "fillers",
    "pauses",
    "transcriptSegments",
    "hedges",
    "repetitions",
    "questions",
)
_BLANK: dict[str, Any] = {"transcript": ""}


def _where(interview_id: str, field: str) -> str:
    return f"interview:{interview_id}:{field}"


@dataclass(frozen=True)
class ServiceOptions:
    """Tunables for analysis jobs, from ANALYSIS_LEASE_SECONDS and its neighbours in settings."""

    lease_seconds: float = 300.0
    max_concurrent_analyses: int = 2
    recovery_interval_seconds: float = 60.0


def _analyzer_label(analyzer: Analyzer) -> str:
    # "openai:gpt-4.1-mini" and "offline": the kind and model, a bounded label
    return str(getattr(analyzer, "name", type(analyzer).__name__))


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    # some drivers hand back naive UTC datetimes; compare them as what they are
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


class InterviewService:
    """Stores interviews and runs their analysis in owned background tasks."""

    def __init__(
        self,
        analyzer: Analyzer,
        options: ServiceOptions | None = None,
        metrics: Metrics | None = None,
        keys: DataKeys | None = None,
    ) -> None:
        self._analyzer = analyzer
        self._metrics = metrics
        self.keys = keys
        self.options = options or ServiceOptions()
        self._sem = asyncio.Semaphore(self.options.max_concurrent_analyses)
        self._tasks: set[asyncio.Task[None]] = set()
        # interviews with an analysis task in this process, queued or running: recovery never
        # starts a second one for them
        self._queued: dict[str, asyncio.Task[None]] = {}
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
        self,
        user_id: str,
        room_name: str,
        participant_identity: str,
        summary: SessionSummary,
        *,
        idempotency_key: str | None = None,
        usage: Usage | None = None,
        drill: DrillSpec | None = None,
    ) -> Interview:
        """Store a processing interview and analyze it.

        Idempotent per (user, `idempotency_key`): a retried submission returns the interview the
        first one stored. Without a key every submission is a new interview, so a second session
        in the same room is never mistaken for the first.
        """
        if idempotency_key is not None:
            raw = await Interview.get_pymongo_collection().find_one(
                {"userId": user_id, "idempotencyKey": idempotency_key}
            )
            if raw is not None:
                return await self._open(raw)
        interview = Interview.model_validate(
            {
                **summary.model_dump(),
                "user_id": user_id,
                "room_name": room_name,
                "participant_identity": participant_identity,
                "idempotency_key": idempotency_key,
                "usage": usage,
                "drill": drill,
            }
        )
        await Interview.get_pymongo_collection().insert_one(await self._seal(interview))
        if usage is not None and self._metrics is not None:
            self._metrics.usage(usage)
        self._spawn(interview.id)
        return interview

    @property
    def queued(self) -> int:
        """Analyses queued or running in this process."""
        return len(self._queued)

    def completion(self, interview_id: str) -> asyncio.Event:
        """An event set when this process finishes analyzing this interview."""
        return self._done.setdefault(interview_id, asyncio.Event())

    def forget(self, interview_id: str) -> None:
        """Drop the completion event once nobody waits for it."""
        self._done.pop(interview_id, None)

    async def _seal(self, interview: Interview) -> dict[str, Any]:
        # the stored document: what the candidate said sealed with their key, blanks in place
        raw = interview.model_dump(by_alias=True)
        raw["_id"] = raw.pop("id", None) or interview.id
        raw.pop("revisionId", None)
        if self.keys is None:
            return raw
        key = await self.keys.get(interview.user_id)
        from coach.encryption import seal

        sealed = {f: raw[f] for f in SEALED if f in raw}
        raw["sealed"] = seal(key, sealed, _where(interview.id, "sealed"))
        for f in sealed:
            raw[f] = _BLANK.get(f, [])
        if raw.get("aiAnalysis") is not None:
            raw["sealedAnalysis"] = seal(key, raw["aiAnalysis"], _where(interview.id, "analysis"))
            raw["aiAnalysis"] = None
        return raw

    async def _open(self, raw: dict[str, Any]) -> Interview:
        # the interview as it was said: sealed fields opened with the owner's key
        if raw.get("sealed") is not None or raw.get("sealedAnalysis") is not None:
            if self.keys is None:
                from coach.encryption import EncryptionError

                raise EncryptionError("a sealed interview, and no keys to open it")
            from coach.encryption import unseal

            key = await self.keys.get(str(raw["userId"]))
            iid = str(raw["_id"])
            if raw.get("sealed") is not None:
                raw.update(unseal(key, raw["sealed"], _where(iid, "sealed")))
            if raw.get("sealedAnalysis") is not None:
                raw["aiAnalysis"] = unseal(key, raw["sealedAnalysis"], _where(iid, "analysis"))
        raw.pop("sealed", None)
        raw.pop("sealedAnalysis", None)
        return Interview.model_validate(raw)

    async def _analysis_fields(
        self, interview: Interview, analysis: dict[str, Any]
    ) -> dict[str, Any]:
        if self.keys is None:
            return {"aiAnalysis": analysis}
        from coach.encryption import seal

        key = await self.keys.get(interview.user_id)
        return {
            "aiAnalysis": None,
            "sealedAnalysis": seal(key, analysis, _where(interview.id, "analysis")),
        }

    async def get(self, user_id: str, interview_id: str) -> Interview | None:
        """The user's interview, or None (also for another user's)."""
        raw = await Interview.get_pymongo_collection().find_one(
            {"_id": interview_id, "userId": user_id}
        )
        return await self._open(raw) if raw is not None else None

    async def list(
        self, user_id: str, *, status: Status | None, before: str | None, limit: int
    ) -> list[Interview]:
        """Newest first; `before` is the last id of the previous page; limit 0 means all."""
        query: dict[str, Any] = {"userId": user_id}
        if status:
            query["status"] = status
        if before:
            anchor = await self.get(user_id, before)
            if anchor is None:
                return []
            query["$or"] = [
                {"createdAt": {"$lt": anchor.created_at}},
                {"createdAt": anchor.created_at, "_id": {"$lt": before}},
            ]
        newest = SortDirection.DESCENDING
        found = (
            Interview.get_pymongo_collection()
            .find(query)
            .sort([("createdAt", newest), ("_id", newest)])
        )
        if limit:
            found = found.limit(limit)
        return [await self._open(raw) async for raw in found]

    async def delete(self, user_id: str, interview_id: str) -> bool:
        """Delete the user's interview; False if not theirs or missing."""
        result = await Interview.find(
            Interview.id == interview_id, Interview.user_id == user_id
        ).delete()
        return bool(result and result.deleted_count)

    async def delete_all(self, user_id: str) -> None:
        """Erase every interview of a user."""
        await Interview.find(Interview.user_id == user_id).delete()

    async def owner(self, interview_id: str) -> str | None:
        """The id of the user an interview belongs to, or None if there is no such interview."""
        raw = await Interview.get_pymongo_collection().find_one(
            {"_id": interview_id}, {"userId": 1}
        )
        return str(raw["userId"]) if raw is not None else None

    async def set_recording(self, interview_id: str, url: str) -> None:
        """Record where the interview's audio can be played from."""
        await Interview.find(Interview.id == interview_id).update({"$set": {"recordingUrl": url}})

    async def retry(self, user_id: str, interview_id: str) -> Interview | None:
        """Send a failed interview back to processing; None if missing; unchanged unless failed."""
        raw = await Interview.get_pymongo_collection().find_one_and_update(
            {"_id": interview_id, "userId": user_id, "status": "failed"},
            {"$set": {"status": "processing", "leaseUntil": None, "error": None}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return await self.get(user_id, interview_id)
        self._spawn(interview_id)
        return await self._open(raw)

    def _spawn(self, interview_id: str) -> None:
        if interview_id in self._queued:
            return
        task = asyncio.create_task(self._analyze(interview_id), name=f"analyze-{interview_id}")
        self._tasks.add(task)
        self._queued[interview_id] = task
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._queued.pop(interview_id, None))

    async def _claim(self, interview_id: str) -> Interview | None:
        # One atomic find-and-update: of two processes racing for a job, exactly one gets it.
        t = now()
        raw = await Interview.get_pymongo_collection().find_one_and_update(
            {
                "_id": interview_id,
                "status": "processing",
                "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": t}}],
            },
            {"$set": {"leaseUntil": t + dt.timedelta(seconds=self.options.lease_seconds)}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return None
        try:
            return await self._open(raw)
        except EncryptionError as e:
            # its owner was erased after it was stored: there is nothing left to analyze
            log.warning("interview %s cannot be analyzed: %s", interview_id, e)
            return None

    async def _analyze(self, interview_id: str) -> None:
        async with self._sem:
            interview = await self._claim(interview_id)
            if interview is None:
                return
            update: dict[str, Any]
            started = time.monotonic()
            name = _analyzer_label(self._analyzer)
            calls: list[LlmCall] = []
            try:
                questions = [q.text for q in interview.questions]
                with collecting() as calls:
                    analysis = await self._analyzer.analyze(
                        interview.summary(), questions=questions
                    )
                update = {
                    "status": "completed",
                    **await self._analysis_fields(interview, analysis.model_dump(by_alias=True)),
                    "leaseUntil": None,
                }
            except asyncio.CancelledError:
                raise
            except Exception as e:  # an analyzer failure must mark the job, not kill the loop
                log.warning("analysis of %s failed: %s", interview_id, e)
                # the reason stays in the log: the client sees that it failed and can retry
                update = {"status": "failed", "error": ANALYSIS_FAILED, "leaseUntil": None}
                if self._metrics is not None:
                    self._metrics.analysis_failures.labels(name).inc()
                report_error(e)
            change: dict[str, Any] = {"$set": update}
            if calls:
                change["$push"] = {
                    "usage.llm": {"$each": [c.model_dump(by_alias=True) for c in calls]}
                }
            await Interview.get_pymongo_collection().update_one(
                {"_id": interview_id, "status": "processing"}, change
            )
            if self._metrics is not None:
                self._metrics.analysis_duration.labels(name).observe(time.monotonic() - started)
                self._metrics.usage(Usage(llm=calls))
            # only a waiter's event is set: nobody waiting means nothing to keep
            waiting = self._done.get(interview_id)
            if waiting is not None:
                waiting.set()

    async def recover_once(self) -> None:
        """Analyze every processing interview whose lease is absent or expired."""
        t = now()
        raw = Interview.get_pymongo_collection().find(
            {"status": "processing"}, {"_id": 1, "leaseUntil": 1}
        )
        async for d in raw:
            lease = _aware(d.get("leaseUntil"))
            if lease is None or lease < t:
                self._spawn(str(d["_id"]))

    async def _recover_loop(self) -> None:
        while True:
            try:
                await self.recover_once()
            except Exception as e:  # a DB outage must not end recovery for good
                log.warning("recovery pass failed: %s", e)
            await asyncio.sleep(self.options.recovery_interval_seconds)
