"""The registry of live sessions: limits, the grace period after a drop, shutdown, recovery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.audio.praat_process import PraatProcess
from coach.audio.recording import OpusRecorder, encode_opus, pcm_part, salvage
from coach.audio.source import SAMPLE_RATE, AudioSource
from coach.drills import DrillSpec
from coach.encryption import seal_bytes, unseal_bytes
from coach.file_worker import FileWorker
from coach.interviews.service import InterviewService
from coach.livekit.egress import EgressRecorder
from coach.private_files import private_file
from coach.sessions.final_pass import FinalPass
from coach.sessions.journal import Journal, Recovered, journal_user, recover
from coach.sessions.session import Interviewer, LiveSession
from coach.speech.accumulator import SpeechAccumulator, SpeechConfig
from coach.speech.summary import SessionSummary
from coach.stt.streaming import StreamingRecognizer

if TYPE_CHECKING:
    from coach.metrics import Metrics

log = logging.getLogger("coach.sessions")


class SessionError(Exception):
    """A session request refused; `code` names the reason or the limit."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How many sessions, how long, and how long a dropped client may take to come back."""

    max_sessions: int = 200
    max_sessions_per_user: int = 2
    max_sessions_per_address: int = 20
    # sessions whose client vanished, waiting out their grace: beyond these the oldest is
    # stored at once, so abandoned sockets cannot hold the server's slots
    max_abandoned_per_user: int = 1
    max_abandoned_per_address: int = 4
    max_duration_seconds: float = 90 * 60.0
    max_frame_bytes: int = 64_000
    grace_seconds: float = 60.0
    metrics_interval_seconds: float = 3.0


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a `start` asks for."""

    user_id: str
    room_name: str
    participant_identity: str
    source: AudioSource
    interviewer: Interviewer | None = None
    record: bool = False
    session_id: str | None = None  # a LiveKit job's interview id, so a redispatch is one
    address: str | None = None  # the client's address; None for a LiveKit job
    data_key: bytes | None = None  # the user's data key: the journal is sealed with it
    drill: DrillSpec | None = None  # a drill on one habit, not a full interview


def _seal_file(plain: Path, sealed: Path, key: bytes, where: str) -> None:
    # written aside and renamed, so a crash leaves either the clear file or the sealed one
    data = plain.read_bytes()
    fresh = private_file(sealed.with_name(sealed.name + ".new"))
    fresh.write_bytes(seal_bytes(key, data, where))
    fresh.replace(sealed)
    plain.unlink(missing_ok=True)


class SessionManager:
    """Creates, finds and finishes live sessions; finishes all of them on shutdown."""

    def __init__(
        self,
        *,
        interviews: InterviewService,
        recognizer: StreamingRecognizer,
        speech: SpeechConfig,
        limits: SessionLimits,
        recordings_dir: Path,
        retention_days: float = 30.0,
        analysis_wait_seconds: float = 600.0,
        final_pass: FinalPass | None = None,
        files: FileWorker | None = None,
    ) -> None:
        # recordings and journals are written on these threads, never on the loop
        self.files = files or FileWorker()
        # every session's pitch tracking in one process below the server's priority: Praat
        # holds the GIL, so on a thread it would stall the loop carrying the audio
        self._praat = PraatProcess()
        self.retention_seconds = retention_days * 86400
        self._interviews = interviews
        self.recognizer = recognizer
        self._speech = speech
        self.limits = limits
        self.recordings_dir = recordings_dir
        self._journals = recordings_dir / "journal"
        self._analysis_wait = analysis_wait_seconds
        self.final_pass = final_pass
        self._live: dict[str, LiveSession] = {}
        self._ended: dict[str, LiveSession] = {}
        self._grace: dict[str, asyncio.Task[None]] = {}
        self._address: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # recordings being encoded after their session was stored, by interview id
        self._encoding: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self.egress: EgressRecorder | None = None
        self.metrics: Metrics | None = None

    @property
    def closing(self) -> bool:
        """Shutting down: no new sessions."""
        return self._closing

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Store sessions a previous process could not save; prune old recordings from now on."""
        await self.recover_journals()
        await self.finish_raw_recordings()
        self._track(asyncio.create_task(self._prune_loop(), name="recordings-retention"))

    def recording_path(self, interview_id: str) -> Path:
        """Where an interview's stream-mode recording is (whether or not it exists)."""
        if not interview_id.isalnum():
            # ids are hex; anything else must not become a path
            return self.recordings_dir / "invalid"
        return self.recordings_dir / f"{interview_id}.ogg"

    def prune_recordings(self, *, now: float | None = None) -> int:
        """Delete recordings older than the retention period; returns how many went."""
        if not self.recordings_dir.is_dir():
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_seconds
        gone = 0
        for path in self.recordings_dir.glob("*.ogg*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
        if gone:
            log.info("deleted %d recording(s) past their retention", gone)
        return gone

    async def _prune_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.prune_recordings)
            except OSError as e:
                log.warning("pruning recordings failed: %s", e)
            await asyncio.sleep(3600)

    async def aclose(self) -> None:
        """Finish every open session (stored and queued for analysis), then stop."""
        self._closing = True
        for task in self._grace.values():
            task.cancel()
        finishing = [s.finish("shutdown") for s in list(self._live.values())]
        if finishing:
            log.info("finishing %d open session(s) before exit", len(finishing))
        results = await asyncio.gather(*finishing, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                log.error("a session could not be finished at shutdown: %s", r)
        # Stored now; analyses still running are recovered from the database by the next start.
        for session in [*self._live.values(), *self._ended.values()]:
            await session.aclose()
        tasks = list(self._tasks) + list(self._grace.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # the journals and recordings of the sessions above reach the disk before exit
        await self.files.aclose()
        await asyncio.to_thread(self._praat.shutdown)

    async def erase_user(self, user_id: str) -> int:
        """End the user's sessions without storing them and delete their audio and journals.

        For an erased account: nothing it said may be stored afterwards, by a session still
        listening, one in its grace period, or the recovery of a journal at the next start.
        """
        mine = [s for s in [*self._live.values(), *self._ended.values()] if s.user_id == user_id]
        for session in mine:
            if session.state == "live":
                session.error("account_erased", "this account was erased; nothing is stored")
            grace = self._grace.pop(session.id, None)
            if grace is not None:
                grace.cancel()
            await session.aclose()
            if session.journal is not None:
                session.journal.discard()
            self._live.pop(session.id, None)
            self._ended.pop(session.id, None)
            self._address.pop(session.id, None)
        # the discarded journals' last writes and deletions run before the sweep below
        await self.files.drain()
        ids = {s.id for s in mine}
        # journals left behind by an earlier process: they carry their user in their header
        for path in self._journals.glob("*.jsonl") if self._journals.is_dir() else []:
            if path.stem in ids or journal_user(path) == user_id:
                ids.add(path.stem)
        for sid in ids:
            (self._journals / f"{sid}.jsonl").unlink(missing_ok=True)
            for path in self.recordings_dir.glob(f"session-{sid}.ogg*"):
                path.unlink(missing_ok=True)
        return len(mine)

    # -- sessions ------------------------------------------------------------------------

    @property
    def live_count(self) -> int:
        """Sessions listening now (the agent server reports them as load)."""
        return len(self._live)

    def open(self, spec: SessionSpec) -> LiveSession:
        """Start a session, or raise `SessionError` naming the limit it would break."""
        lim = self.limits
        if self._closing:
            raise SessionError("shutting_down", "the server is restarting; try again shortly")
        if len(self._live) >= lim.max_sessions:
            raise SessionError(
                "max_sessions", f"the server is at its limit of {lim.max_sessions} live sessions"
            )
        # a session that is finishing is being stored, not practised in: the candidate who
        # just ended one may start the next at once
        live = [s for s in self._live.values() if s.state == "live"]
        mine = sum(1 for s in live if s.user_id == spec.user_id)
        if mine >= lim.max_sessions_per_user:
            raise SessionError(
                "max_sessions_per_user",
                f"at most {lim.max_sessions_per_user} live sessions per user",
            )
        if spec.address is not None:
            here = sum(1 for s in live if self._address.get(s.id) == spec.address)
            if here >= lim.max_sessions_per_address:
                raise SessionError(
                    "max_sessions_per_address",
                    f"at most {lim.max_sessions_per_address} live sessions from one address",
                )
        if any(
            s.room_name == spec.room_name and s.participant_identity == spec.participant_identity
            for s in self._live.values()
        ):
            raise SessionError(
                "session_exists", "this participant already has a live session in this room"
            )
        session_id = spec.session_id or uuid.uuid4().hex
        recorder = (
            OpusRecorder(self.recordings_dir / f"session-{session_id}.ogg", worker=self.files)
            if spec.record
            else None
        )
        journal = Journal(
            self._journals / f"{session_id}.jsonl",
            {
                "sessionId": session_id,
                "userId": spec.user_id,
                "roomName": spec.room_name,
                "participantIdentity": spec.participant_identity,
                **({"drill": spec.drill.model_dump(mode="json")} if spec.drill else {}),
            },
            data_key=spec.data_key,
            worker=self.files,
        )
        session = LiveSession(
            session_id=session_id,
            user_id=spec.user_id,
            room_name=spec.room_name,
            participant_identity=spec.participant_identity,
            source=spec.source,
            stream=self.recognizer.stream(sample_rate=SAMPLE_RATE, room=spec.room_name),
            accumulator=SpeechAccumulator(self._speech),
            submit=self._store,
            wait_analysis=self._wait,
            interviewer=spec.interviewer,
            recorder=recorder,
            journal=journal,
            max_duration=lim.max_duration_seconds,
            metrics_interval=lim.metrics_interval_seconds,
            on_done=self._stored,
            final_pass=self.final_pass,
            metrics=self.metrics,
            pitch=self._praat.contours,
            recognizer=self.recognizer.name,
            drill=spec.drill,
        )
        self._live[session_id] = session
        if spec.address is not None:
            self._address[session_id] = spec.address
        if self.metrics is not None:
            self.metrics.sessions_started.labels(session.mode).inc()
        session.start()
        log.info("session %s started in room %s", session_id, spec.room_name,
                 extra={"room": spec.room_name})  # fmt: skip
        return session

    def get(self, user_id: str, session_id: str) -> LiveSession:
        """A session of this user that is live, finishing, or ended within the grace period."""
        session = self._live.get(session_id) or self._ended.get(session_id)
        if session is None or session.user_id != user_id:
            raise SessionError("unknown_session", "no such session (it may have expired)")
        return session

    def resume(self, user_id: str, session_id: str) -> LiveSession:
        """Take a session back after a dropped socket: its grace timer stops."""
        session = self.get(user_id, session_id)
        grace = self._grace.pop(session_id, None)
        if grace is not None:
            grace.cancel()
        return session

    def dropped(self, session: LiveSession) -> None:
        """The client vanished without `complete`: finish after the grace period unless resumed."""
        session.detach()
        if session.state != "live" or session.id in self._grace:
            return
        lim = self.limits
        address = self._address.get(session.id)
        self._abandon_beyond(lambda s: s.user_id == session.user_id, lim.max_abandoned_per_user)
        if address is not None:
            self._abandon_beyond(
                lambda s: self._address.get(s.id) == address, lim.max_abandoned_per_address
            )
        self._grace[session.id] = asyncio.create_task(
            self._expire(session), name=f"session-grace[{session.id}]"
        )

    def _abandon_beyond(self, same: Callable[[LiveSession], bool], keep: int) -> None:
        """Store the oldest abandoned sessions of one user or address, leaving room for one."""
        waiting = [s for sid in self._grace if (s := self._live.get(sid)) is not None and same(s)]
        for old in waiting[: max(0, len(waiting) - keep + 1)]:
            self._grace.pop(old.id).cancel()
            log.info("session %s stored early: too many abandoned sessions", old.id)
            self._track(old.finish("client_gone"))

    async def _expire(self, session: LiveSession) -> None:
        await asyncio.sleep(self.limits.grace_seconds)
        self._grace.pop(session.id, None)
        if session.state == "live" and not session.attached:
            log.info(
                "client of session %s did not come back in %.0f s; storing it",
                session.id,
                self.limits.grace_seconds,
                extra={"room": session.room_name},
            )
            self._track(session.finish("client_gone"))

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _stored(self, session: LiveSession) -> None:
        if self.metrics is not None:
            m = self.metrics
            m.sessions_finished.labels(session.finish_reason or "unknown").inc()
            m.audio_in.labels(session.mode).inc(session.clock)
            m.audio_dropped.labels(session.recognizer).inc(session.dropped_audio_seconds)
        self._live.pop(session.id, None)
        self._address.pop(session.id, None)
        self._ended[session.id] = session
        loop = asyncio.get_running_loop()
        # An ended session stays resumable for replay a while, then it is forgotten.
        loop.call_later(max(self.limits.grace_seconds, 1.0), self._ended.pop, session.id, None)

    # -- storing ---------------------------------------------------------------------------

    async def _store(self, session: LiveSession, summary: SessionSummary) -> str:
        usage = session.usage()
        try:
            interview = await self._interviews.submit(
                session.user_id,
                session.room_name,
                session.participant_identity,
                summary,
                idempotency_key=f"session:{session.id}",
                usage=usage,
                drill=session.drill,
            )
        except Exception:
            # The database is down: the journal stays on disk and the next start stores it.
            log.exception(
                "could not store session %s; its journal is kept for the next start",
                session.id,
                extra={"room": session.room_name},
            )
            raise
        if session.journal is not None:
            session.journal.discard()
        interview_id = interview.id
        if isinstance(session.recorder, OpusRecorder):
            await self._keep_recording(session, session.recorder, interview_id)
        if session.egress_id is not None and self.egress is not None:
            await self.egress.stop(session.egress_id)
            await self.egress.link(session.egress_id, interview_id)
        return interview_id

    def sealed_recording_path(self, interview_id: str) -> Path:
        """Where an interview's recording is kept, sealed with its user's data key."""
        path = self.recording_path(interview_id)
        return path.with_name(path.name + ".sealed")

    async def seal_recording(self, user_id: str, interview_id: str) -> None:
        """Encrypt a stored interview's recording with its user's key (the clear file goes)."""
        key = await self.data_key(user_id)
        if key is None:
            return
        await asyncio.to_thread(
            _seal_file, self.recording_path(interview_id), self.sealed_recording_path(interview_id),
            key, f"recording:{interview_id}",
        )  # fmt: skip

    async def _publish_recording(self, user_id: str, interview_id: str) -> None:
        # sealed with the owner's key, then linked: the link never points at a clear file
        await self.seal_recording(user_id, interview_id)
        await self._interviews.set_recording(
            interview_id, f"/api/interviews/{interview_id}/recording"
        )

    def recording_files(self, interview_id: str) -> list[Path]:
        """Every file an interview's recording may be in: finished, unfinished, raw, sealed."""
        plain = self.recording_path(interview_id)
        return [
            plain,
            plain.with_name(plain.name + ".part"),
            pcm_part(plain),
            self.sealed_recording_path(interview_id),
        ]

    async def open_recording(self, user_id: str, interview_id: str) -> bytes | None:
        """The recording's bytes for its owner, or None if there is none."""
        sealed = self.sealed_recording_path(interview_id)
        plain = self.recording_path(interview_id)
        if await asyncio.to_thread(sealed.is_file):
            key = await self.data_key(user_id)
            if key is None:
                return None
            data = await asyncio.to_thread(sealed.read_bytes)
            return unseal_bytes(key, data, f"recording:{interview_id}")
        if await asyncio.to_thread(plain.is_file):
            return await asyncio.to_thread(plain.read_bytes)
        return None

    async def _keep_recording(
        self, session: LiveSession, recorder: OpusRecorder, interview_id: str
    ) -> None:
        if recorder.dropped_seconds:
            log.warning("the recording of session %s misses %.1f s: the disk fell behind",
                        session.id, recorder.dropped_seconds)  # fmt: skip
            if self.metrics is not None:
                self.metrics.recording_dropped.inc(recorder.dropped_seconds)
        plain = self.recording_path(interview_id)
        try:
            if recorder.sealed:
                # the final pass encoded it already: only its name changes
                if await asyncio.to_thread(recorder.close, plain) is not None:
                    await self._publish_recording(session.user_id, interview_id)
            elif await asyncio.to_thread(recorder.keep, plain) and not self._closing:
                # Encoded after `session_complete`: when hundreds of sessions end together
                # they wait for the one encoding thread, and the stored words need not.
                # A stopping server leaves the raw audio to the next start.
                self._encode_later(session.user_id, interview_id)
        except Exception as e:  # the interview matters more than its audio
            log.error("could not keep the recording of session %s: %s", session.id, e,
                      extra={"room": session.room_name})  # fmt: skip

    def _encode_later(self, user_id: str, interview_id: str) -> None:
        task = asyncio.create_task(
            self._encode_in_background(user_id, interview_id),
            name=f"recording-encode[{interview_id}]",
        )
        self._encoding[interview_id] = task
        task.add_done_callback(lambda _: self._encoding.pop(interview_id, None))
        self._track(task)

    async def _encode_in_background(self, user_id: str, interview_id: str) -> None:
        try:
            await self._encode_raw(user_id, interview_id)
        except Exception as e:  # the raw audio stays, and the next start tries again
            log.error("the recording of interview %s was not encoded: %s", interview_id, e)

    async def _encode_raw(self, user_id: str, interview_id: str) -> None:
        """Encode the raw audio kept under an interview's name, then seal and link it.

        The raw file goes last: a stop or a crash anywhere before leaves it to
        `finish_raw_recordings`, which does all of this again.
        """
        plain = self.recording_path(interview_id)
        raw, part = pcm_part(plain), plain.with_name(plain.name + ".part")
        # on the worker's niced encoding thread, one recording at a time
        await asyncio.wrap_future(self.files.submit_heavy(encode_opus, raw, part))
        await asyncio.to_thread(part.replace, plain)
        await self._publish_recording(user_id, interview_id)
        await asyncio.to_thread(raw.unlink, True)

    async def recording_settled(self, interview_id: str) -> None:
        """Wait until the interview's recording is no longer being encoded (linked or failed)."""
        task = self._encoding.get(interview_id)
        if task is not None:
            await asyncio.wait({task})

    async def recover_journals(self) -> int:
        """Store the sessions a previous process left unstored (killed, or the DB was down)."""
        if not self._journals.is_dir():
            return 0
        stored = 0
        for path in sorted(self._journals.glob("*.jsonl")):
            try:
                key = await self._journal_key(path)
                found = await asyncio.to_thread(recover, path, self._speech, key)
                if found is None:
                    path.unlink()
                    continue
                h = found.header
                log.info("recovering session %s from its journal", h["sessionId"])
                # the raw audio the killed process was writing becomes its Ogg `.part` here
                base = self.recordings_dir / f"session-{h['sessionId']}.ogg"
                part = await asyncio.to_thread(salvage, base) or base.with_name(base.name + ".part")
                summary = await self._recovered_summary(found, part)
                interview = await self._interviews.submit(
                    h["userId"],
                    h["roomName"],
                    h["participantIdentity"],
                    summary,
                    idempotency_key=f"session:{h['sessionId']}",
                    drill=DrillSpec.model_validate(h["drill"]) if h.get("drill") else None,
                )
                interview_id = interview.id
                plain = self.recording_path(interview_id)
                if part.is_file():
                    # (an unfinished Ogg from an older version plays up to its last page)
                    part.replace(plain)
                # also when an earlier recovery died after the rename: it is sealed and linked
                # now, or never
                if plain.is_file():
                    await self._publish_recording(h["userId"], interview_id)
            except Exception as e:  # leave it for the next start; one bad file must not block
                log.error("session journal %s not stored yet: %s", path.name, e)
                if self.metrics is not None:
                    self.metrics.journal_recoveries.labels("failed").inc()
                continue
            path.unlink()
            stored += 1
            if self.metrics is not None:
                self.metrics.journal_recoveries.labels("stored").inc()
            log.info(
                "stored session %s from its journal (%d words)",
                h["sessionId"],
                len(summary.words),
                extra={"room": h["roomName"]},
            )
        return stored

    async def finish_raw_recordings(self) -> int:
        """Encode, seal and link the stored interviews' audio a stopping process left raw."""
        done = 0
        suffix = ".ogg.pcm.part"  # `pcm_part` of a `recording_path`
        raws = self.recordings_dir.glob(f"*{suffix}") if self.recordings_dir.is_dir() else []
        for raw in sorted(raws):
            interview_id = raw.name[: -len(suffix)]
            if not interview_id.isalnum():
                continue  # a session's own audio: its journal's recovery takes it
            try:
                user_id = await self._interviews.owner(interview_id)
                if user_id is None:  # the interview was deleted meanwhile
                    raw.unlink(missing_ok=True)
                    continue
                if raw.stat().st_size < 2:  # no audio came before the stop
                    raw.unlink()
                    continue
                await self._encode_raw(user_id, interview_id)
                done += 1
            except Exception as e:  # the next start tries again; one bad file must not block
                log.error("the recording of interview %s not finished yet: %s", interview_id, e)
        if done:
            log.info("finished %d recording(s) left raw by the last stop", done)
        return done

    async def data_key(self, user_id: str) -> bytes | None:
        """The user's data key for sealing a session's journal (None without encryption)."""
        keys = self._interviews.keys
        return await keys.get(user_id) if keys is not None else None

    async def _journal_key(self, path: Path) -> bytes | None:
        user = await asyncio.to_thread(journal_user, path)
        if user is None:
            return None
        return await self.data_key(user)

    async def _recovered_summary(self, found: Recovered, part: Path) -> SessionSummary:
        # The recording grows a page a second, the journal a final at a time: words the live
        # recognizer had heard but not finished when the process died are only in the audio,
        # so the full-accuracy pass over it tells the whole interview when it hears more.
        if self.final_pass is None or not await asyncio.to_thread(part.is_file):
            return found.summary
        try:
            result = await self.final_pass.run(
                part, duration=found.summary.duration, questions=found.questions
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the journal's words are a fair interview on their own
            log.warning("recovered session %s: the recording could not be transcribed: %s",
                        found.header.get("sessionId"), e)  # fmt: skip
            return found.summary
        if result.words < found.words:
            return found.summary
        log.info("recovered session %s: %d words in its journal, %d in its recording",
                 found.header.get("sessionId"), found.words, result.words)  # fmt: skip
        return result.summary

    async def _wait(self, user_id: str, interview_id: str) -> str:
        status = await self._analysis_status(user_id, interview_id)
        # `analysis_complete` tells the client the interview is whole: its recording too
        await self.recording_settled(interview_id)
        return status

    async def _analysis_status(self, user_id: str, interview_id: str) -> str:
        done = self._interviews.completion(interview_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._analysis_wait
        try:
            while True:
                # Registered first, then the database: an analysis that finished before the
                # event existed shows there, and one finishing from now on sets the event.
                # Another process (a restart, a second replica) only shows in the database.
                found = await self._interviews.get(user_id, interview_id)
                if found is None:
                    return "failed"
                if found.status != "processing" or loop.time() >= deadline:
                    return found.status
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 5.0)
        finally:
            self._interviews.forget(interview_id)
