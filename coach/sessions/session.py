"""One live interview: audio source → recognizer → speech accumulator → stored interview."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from coach.audio.prosody import Contours, LiveVocalTracker
from coach.audio.source import SAMPLE_RATE, AudioSource, PushedAudio
from coach.drills import DrillCoach, DrillSpec, Nudge
from coach.error_reports import report_error
from coach.loop_turns import one_turn
from coach.providers import ProviderError
from coach.sessions.final_pass import FinalPass
from coach.sessions.journal import Journal
from coach.speech.accumulator import SpeechAccumulator
from coach.speech.summary import SessionSummary
from coach.speech.words import QuestionTiming
from coach.stt.streaming import (
    Recognized,
    RecognizerEvent,
    RecognizerStream,
    SpeechStarted,
    SpeechStopped,
    UtteranceEnd,
)
from coach.usage import LlmCall, Usage, start_collecting

if TYPE_CHECKING:
    from coach.metrics import Metrics

log = logging.getLogger("coach.sessions")

Event = dict[str, Any]
State = Literal["live", "finishing", "done"]


class TurnLike(Protocol):
    """What an interviewer says: a question, a follow-up, a nudge or the goodbye."""

    @property
    def text(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def asked_at(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def closing(self) -> bool: ...
    @property
    def preface(self) -> str: ...


class Interviewer(Protocol):
    """The text-mode interviewer a stream-mode session is driven by."""

    def open(self, t: float) -> TurnLike:
        """The greeting and first question, asked at audio time `t`."""
        ...

    def speaking(self, t: float) -> None:
        """The candidate is talking at `t` (an interim result, or speech detected)."""
        ...

    def heard(self, text: str, start: float, end: float) -> None:
        """A final transcript result."""
        ...

    def utterance_end(self, t: float) -> None:
        """The recognizer saw a gap after speech."""
        ...

    async def tick(self, t: float) -> Sequence[TurnLike]:
        """Turns due at audio time `t`."""
        ...

    def skip(self, t: float) -> TurnLike | None:
        """The candidate is done with the answer: the next turn now, or None when over."""
        ...

    @property
    def asked(self) -> int:
        """Main questions asked so far."""
        ...

    @property
    def total(self) -> int:
        """Main questions the plan asks for."""
        ...


class Submitter(Protocol):
    """Where a finished session's summary goes: the interviews service, in-process."""

    async def __call__(self, session: LiveSession, summary: SessionSummary) -> str:
        """Store the summary; return the interview id."""
        ...


class AnalysisWaiter(Protocol):
    """Waits for a stored interview's analysis and says its status."""

    async def __call__(self, user_id: str, interview_id: str) -> str:
        """'completed' or 'failed' once the analysis is stored."""
        ...


class Recorder(Protocol):
    """Keeps the session's audio."""

    def write(self, pcm16: bytes) -> None:
        """Append audio."""
        ...

    def keep(self) -> bool:
        """Finish the raw file under its unfinished name, to be encoded later; False if empty."""
        ...

    def seal(self) -> Path | None:
        """Finish the file so it can be read whole (None without audio); it stays the session's."""
        ...


# Events a client must not miss: replayed after a reconnect. Interims and metrics are not.
_DURABLE = frozenset(
    {"question", "session_complete", "analysis_complete", "error", "final", "final_pass"}
)


class LiveSession:
    """Owns one interview's audio source, recognizer stream, accumulator and client link."""

    def __init__(
        self,
        *,
        session_id: str,
        user_id: str,
        room_name: str,
        participant_identity: str,
        source: AudioSource,
        stream: RecognizerStream,
        accumulator: SpeechAccumulator,
        submit: Submitter,
        wait_analysis: AnalysisWaiter,
        interviewer: Interviewer | None = None,
        recorder: Recorder | None = None,
        journal: Journal | None = None,
        max_duration: float = 90 * 60.0,
        metrics_interval: float = 3.0,
        flush_timeout: float = 60.0,
        on_done: Callable[[LiveSession], None] | None = None,
        track_voice: bool = True,
        pitch: Callable[[bytes], Awaitable[Contours]] | None = None,
        final_pass: FinalPass | None = None,
        metrics: Metrics | None = None,
        recognizer: str = "",
        drill: DrillSpec | None = None,
    ) -> None:
        self.id = session_id
        self.user_id = user_id
        self.room_name = room_name
        self.participant_identity = participant_identity
        self.source = source
        self.accumulator = accumulator
        self.interviewer = interviewer
        self.recorder = recorder
        self.journal = journal
        self.state: State = "live"
        self.interview_id: str | None = None
        self.egress_id: str | None = None  # LiveKit mode with Egress recording
        self.voice: Any = None  # LiveKit mode: the voice interviewer, closed at the end
        self.analysis_status: str | None = None
        self.finish_reason: str | None = None
        self.frames_in = 0
        # pitch is tracked as the audio comes, in batches off the loop, for vocal variety
        self.vocal = (
            LiveVocalTracker(name=f"session[{session_id}]", contours=pitch) if track_voice else None
        )
        self._stream = stream
        self._submit = submit
        self._wait_analysis = wait_analysis
        self._max_duration = max_duration
        self._metrics_interval = metrics_interval
        self._flush_timeout = flush_timeout
        self._on_done = on_done
        self._final_pass = final_pass
        self._metrics = metrics
        self.recognizer = recognizer
        # a drill: one habit, one prompt, a time limit and nudges on that habit
        self.drill = drill
        # its nudges, on the same pause threshold as the metrics
        self._coach = (
            DrillCoach(drill, pause_threshold=accumulator.config.pause_threshold)
            if drill is not None
            else None
        )
        self._fillers_nudged = 0
        # the audio time up to which the recognizer has finished its words
        self._transcribed = 0.0
        # language-model calls made for this session (follow-ups), for its usage
        self._llm_calls: list[LlmCall] = []
        # the voice interviewer's, read when it stops
        self._voiced = False
        self._voice_llm: list[LlmCall] = []
        self._voice_tts: dict[str, float] = {}
        self._samples = 0
        self._seq = 0
        self._log: list[Event] = []
        self._sink: Callable[[Event], None] | None = None
        self._delivered = 0
        self._listen_done = asyncio.Event()
        self._finish_task: asyncio.Task[str | None] | None = None
        self._report_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._hearers: list[Callable[[RecognizerEvent], None]] = []
        self._speaking: bool | None = None
        self._speech_at = 0.0

    @property
    def clock(self) -> float:
        """Seconds of audio heard so far."""
        return self._samples / SAMPLE_RATE

    @property
    def attached(self) -> bool:
        """Whether a client socket is listening."""
        return self._sink is not None

    def start(self) -> None:
        """Start listening; the first question (if any) goes out at once."""
        name = self.id
        self._tasks = [
            asyncio.create_task(self._pump(), name=f"session-pump[{name}]"),
            asyncio.create_task(self._listen(), name=f"session-listen[{name}]"),
            asyncio.create_task(self._metrics_loop(), name=f"session-metrics[{name}]"),
        ]
        if self.interviewer is not None:
            self._ask(self.interviewer.open(0.0))

    # -- client link -----------------------------------------------------------------

    def attach(self, sink: Callable[[Event], None], *, last_seq: int | None = None) -> None:
        """Send events to `sink`, first replaying durable ones after `last_seq`."""
        self._sink = sink
        after = self._delivered if last_seq is None else last_seq
        for event in self._log:
            if event["seq"] > after:
                sink(event)
                self._delivered = max(self._delivered, int(event["seq"]))

    def detach(self, *, delivered: int | None = None) -> None:
        """The client's socket is gone; durable events after `delivered` wait for a resume."""
        self._sink = None
        if delivered is not None:
            self._delivered = min(self._delivered, delivered)

    def emit(self, event: Event) -> None:
        """Send an event to the client; durable ones are numbered and kept for replay."""
        kind = "final" if event.get("type") == "transcript" and event.get("isFinal") else None
        if (kind or event.get("type")) in _DURABLE:
            self._seq += 1
            event = {**event, "seq": self._seq}
            self._log.append(event)
        if self._sink is not None:
            try:
                self._sink(event)
            except Exception as e:  # a broken client link must not stop the interview
                log.warning("dropping the client link of session %s: %s", self.id, e,
                            extra={"room": self.room_name})  # fmt: skip
                self._sink = None
                return
            if "seq" in event:
                self._delivered = int(event["seq"])

    def error(self, code: str, message: str) -> None:
        """Tell the client something was refused."""
        self.emit({"type": "error", "code": code, "message": message})

    # -- audio in ----------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """`stream` (audio on the socket) or `livekit` (audio from a room)."""
        return "stream" if isinstance(self.source, PushedAudio) else "livekit"

    @property
    def dropped_audio_seconds(self) -> float:
        """Audio the recognizer dropped because it fell behind or could not be reached."""
        return self._stream.dropped_bytes / (2 * SAMPLE_RATE)

    def usage(self) -> Usage:
        """What this session used of the paid services so far."""
        minutes = self.clock / 60
        # one stream per session: the voice interviewer hears through it too (`hear`)
        stt = {self.recognizer or "unknown": round(self.clock, 3)}
        participants = 0
        voiced = self._voiced or self.voice is not None
        if self.mode == "livekit":
            # the candidate and coach's listener, plus the voice interviewer when it runs
            participants = 2 + (1 if voiced else 0)
        return Usage(
            stt_seconds=stt,
            llm=[*self._llm_calls, *self._voice_llm],
            tts_seconds={k: round(v, 3) for k, v in self._voice_tts.items()},
            livekit_participant_minutes=round(participants * minutes, 3),
            egress_minutes=round(minutes, 3) if self.egress_id is not None else 0.0,
        )

    async def _pump(self) -> None:
        # follow-ups are asked from this task: their tokens are this session's
        self._llm_calls = start_collecting()
        try:
            await self._pump_frames()
        except ProviderError as e:
            log.error("audio source of session %s failed: %s", self.id, e)
            self.error("audio_source_failed", "the audio stopped; what was heard is kept")
            if self.state == "live":
                self.finish("audio_source_failed")
        finally:
            self._stream.end_input()

    async def _pump_frames(self) -> None:
        async for frame in self.source:
            self.frames_in += 1
            self._samples += len(frame) // 2
            self._stream.push_audio(frame)
            if self.recorder is not None:
                self.recorder.write(frame)
            if self.vocal is not None:
                self.vocal.push(frame)
            self.accumulator.advance(self.clock)
            if self.interviewer is not None:
                for turn in await self.interviewer.tick(self.clock):
                    self._ask(turn)
            if self._coach is not None and self.state == "live":
                self._drill_tick(self._coach)
            if self.clock >= self._max_duration and self.state == "live":
                self.error(
                    "max_duration",
                    f"sessions may last at most {self._max_duration / 60:g} minutes",
                )
                self.finish("max_duration")

    def hear(self, hearer: Callable[[RecognizerEvent], None]) -> Callable[[], None]:
        """Also hand every recognizer event to `hearer`; the result stops that.

        The voice interviewer listens through this, so one recognizer stream (one Deepgram
        socket, billed per minute) serves both the metrics and the conversation.
        """
        self._hearers.append(hearer)

        def stop() -> None:
            if hearer in self._hearers:
                self._hearers.remove(hearer)

        return stop

    def next_question(self) -> bool:
        """The candidate is done with this answer: the interviewer moves on at once.

        False when there is nothing to move on to (no text interviewer, or it said goodbye).
        """
        if self.interviewer is None or self.state != "live":
            return False
        turn = self.interviewer.skip(self.clock)
        if turn is None:
            return False
        self._ask(turn)
        return True

    def interviewer_said(self, text: str) -> None:
        """A line of the LiveKit voice interviewer, heard now: timed as a question."""
        self._say(text, index=-1, kind="question", closing=False, at=self.clock)

    def _ask(self, turn: TurnLike) -> None:
        self._say(turn.text, index=turn.index, kind=turn.kind, closing=turn.closing,
                  at=turn.asked_at, preface=turn.preface)  # fmt: skip

    def _say(
        self, text: str, *, index: int, kind: str, closing: bool, at: float, preface: str = ""
    ) -> None:
        if kind in ("question", "followup"):
            # a nudge or the goodbye is not a question: the wait after it is not latency
            question = QuestionTiming(text, at)
            self.accumulator.add_question(question)
            if self.journal is not None:
                self.journal.question(question)
        # the client shows and speaks the greeting with the question; only the question is
        # stored, so the answer's relevance is judged against what was asked
        shown = f"{preface} {text}" if preface else text
        event: Event = {"type": "question", "text": shown, "index": index, "kind": kind,
                        "closing": closing, "askedAt": round(at, 3)}  # fmt: skip
        if self.interviewer is not None:
            # "Question 2 of 3": main questions asked so far, out of the plan's
            event["number"] = self.interviewer.asked
            event["of"] = self.interviewer.total
        self.emit(event)

    async def _listen(self) -> None:
        try:
            async for event in self._stream:
                for hearer in tuple(self._hearers):
                    hearer(event)
                if isinstance(event, Recognized):
                    if event.words:
                        # words late for a stretch already over (a whole-utterance recognizer)
                        # say nothing about now: only words after the last change do
                        self._speech(True, event.end)
                    if event.is_final and event.words and self._metrics is not None:
                        self._metrics.transcript_latency.labels(self.recognizer).observe(
                            max(0.0, self.clock - event.end)
                        )
                    if event.is_final:
                        self._transcribed = max(self._transcribed, event.end)
                    self.accumulator.update(event.words, is_final=event.is_final)
                    if event.is_final and self.journal is not None and event.words:
                        self.journal.words(event.words)
                    if event.is_final and self._coach is not None:
                        self._drill_fillers(self._coach)
                    if self.interviewer is not None and event.words:
                        self.interviewer.speaking(event.end)
                        if event.is_final:
                            self.interviewer.heard(event.text, event.start, event.end)
                    self.emit(
                        {
                            "type": "transcript",
                            "text": event.text,
                            "isFinal": event.is_final,
                            "start": round(event.start, 3),
                            "end": round(event.end, 3),
                        }
                    )
                elif isinstance(event, UtteranceEnd):
                    self._speech(False, event.last_word_end)
                    if self.interviewer is not None:
                        self.interviewer.utterance_end(event.last_word_end)
                elif isinstance(event, SpeechStarted):
                    self._speech(True, event.at)
                    if self.interviewer is not None:
                        self.interviewer.speaking(event.at)
                elif isinstance(event, SpeechStopped):
                    self._speech(False, event.at)
        except ProviderError as e:
            log.error("recognizer of session %s failed: %s", self.id, e)
            self.error("recognizer_failed", "speech recognition stopped; what was heard is kept")
            if self.state == "live":
                self.finish("recognizer_failed")
        finally:
            self._listen_done.set()

    def _speech(self, speaking: bool, at: float) -> None:
        # voice activity (or, from recognizers without it, words and utterance ends) as soon
        # as it changes, so a client shows "speaking" / "pause" without waiting for words
        if speaking != self._speaking and at >= self._speech_at:
            self._speaking, self._speech_at = speaking, at
            self.emit({"type": "speech", "speaking": speaking, "at": round(at, 3)})

    async def _metrics_loop(self) -> None:
        # Sessions that start together would all compute and send their metrics on the same
        # tick, every interval, for as long as they last; a random first wait spreads them.
        wait = random.uniform(0.5, 1.0) * self._metrics_interval
        while True:
            await asyncio.sleep(wait)
            wait = self._metrics_interval
            if self.journal is not None:
                self.journal.clock(self.clock)
            m = self.accumulator.live_metrics()
            self.emit(
                {
                    "type": "metrics",
                    "wpm": m.current_wpm,
                    "averageWpm": m.average_wpm,
                    "fillers": m.fillers,
                    "words": m.words,
                    "elapsed": m.elapsed,
                    "speakingWpm": m.speaking_wpm,
                    "recentFillers": m.recent_fillers,
                }
            )
            if self._coach is not None:
                measured = m.current_wpm if m.speaking_wpm is not None else None
                self._nudge(self._coach.pace(measured, self.clock))

    # -- drills ----------------------------------------------------------------------------

    def _nudge(self, nudge: Nudge | None) -> None:
        if nudge is None:
            return
        event: Event = {"type": "nudge", "habit": nudge.habit, "tone": nudge.tone,
                        "message": nudge.message, "at": round(nudge.at, 3)}  # fmt: skip
        if nudge.value is not None:
            event["value"] = round(nudge.value, 1)
        self.emit(event)

    def _drill_tick(self, coach: DrillCoach) -> None:
        if coach.time_up(self.clock):
            # the drill's time is up: it ends like a completed interview
            self.finish("drill_time")
            return
        silent_since = self._speech_at if self._speaking is False else None
        self._nudge(
            coach.tick(
                self.clock,
                speaking=self._speaking,
                silent_since=silent_since,
                transcribed_until=self._transcribed,
            )
        )

    def _drill_fillers(self, coach: DrillCoach) -> None:
        fillers = self.accumulator.fillers()
        for f in fillers[self._fillers_nudged :]:
            self._nudge(coach.filler(f.word, f.timestamp))
        self._fillers_nudged = max(self._fillers_nudged, len(fillers))

    # -- the end -------------------------------------------------------------------------

    def finish(self, reason: str) -> asyncio.Task[str | None]:
        """End the interview (idempotent): flush, store, analyze; the task says the id."""
        if self._finish_task is None:
            self.finish_reason = reason
            self.state = "finishing"
            self._finish_task = asyncio.create_task(
                self._finish(), name=f"session-finish[{self.id}]"
            )
        return self._finish_task

    async def _finish(self) -> str | None:
        try:
            await self.source.aclose()
            try:
                await asyncio.wait_for(self._listen_done.wait(), self._flush_timeout)
            except TimeoutError:
                log.warning(
                    "recognizer of session %s did not flush in %.0f s; storing what was heard",
                    self.id,
                    self._flush_timeout,
                    extra={"room": self.room_name},
                )
            await self._stop_tasks()
            if self.journal is not None:
                self.journal.clock(self.clock)
                self.journal.close()
            # sessions often end together (a shutdown, a class of students): each summary
            # takes a turn of the loop of its own
            async with one_turn():
                summary = self.accumulator.summary()
            if self._final_pass is not None and self.recorder is not None:
                summary = await self._full_accuracy(self._final_pass, self.recorder, summary)
            if self.vocal is not None:
                summary = await self._with_vocal_variety(summary)
            self.interview_id = await self._submit(self, summary)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the client hears why; the registry's spool keeps the data
            log.exception("finishing session %s failed: %s", self.id, e)
            report_error(e)
            self.error(
                "finish_failed",
                "the interview could not be stored now; it is kept and stored at the next start",
            )
            self.state = "done"
            if self._on_done is not None:
                self._on_done(self)
            return None
        self.emit(
            {
                "type": "session_complete",
                "message": "Analysis in progress...",
                "interviewId": self.interview_id,
            }
        )
        if self._on_done is not None:
            # stored: the session no longer counts against the limits
            self._on_done(self)
        # Stored: from here on the interview is safe, and waiting for its analysis must
        # not hold up a shutdown, so that wait is a task of its own.
        self._report_task = asyncio.create_task(
            self._report_analysis(self.interview_id), name=f"session-analysis[{self.id}]"
        )
        return self.interview_id

    async def _full_accuracy(
        self, final_pass: FinalPass, recorder: Recorder, live: SessionSummary
    ) -> SessionSummary:
        """The summary of the session's recording at full accuracy; the live one if that fails."""
        if self.finish_reason == "shutdown":
            # a restart must not wait minutes for CPU work; the live words are stored
            return live
        try:
            recording = await asyncio.to_thread(recorder.seal)
        except Exception as e:  # the recording is a bonus; the live words stand
            log.warning("recording of session %s could not be finished: %s", self.id, e)
            return live
        if recording is None:
            return live
        self.emit({"type": "final_pass", "state": "running", "audioSeconds": round(self.clock, 3)})
        try:
            result = await final_pass.run(
                recording, duration=self.clock, questions=self.accumulator.questions
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the live words are a fair report when the pass cannot run
            log.error("final pass of session %s failed; storing the live words: %s", self.id, e)
            self.emit({"type": "final_pass", "state": "failed", "words": live.total_words})
            return live
        if result.words == 0 and live.total_words > 0:
            log.error("final pass of session %s heard nothing; storing the live words", self.id)
            self.emit({"type": "final_pass", "state": "failed", "words": live.total_words})
            return live
        log.info(
            "final pass of session %s: %d live words, %d at full accuracy",
            self.id,
            live.total_words,
            result.words,
        )
        self.emit({"type": "final_pass", "state": "done", "words": result.words})
        return result.summary

    async def _with_vocal_variety(self, summary: SessionSummary) -> SessionSummary:
        assert self.vocal is not None
        try:
            vv = await self.vocal.finish(summary)
        except Exception as e:  # a missing measure must never cost the interview
            log.warning("vocal variety of session %s failed: %s", self.id, e)
            return summary
        finally:
            if self.vocal.done:
                # the contours are summed up; an ended session waits out its grace without them
                self.vocal = None
        return summary.model_copy(update={"vocal_variety": vv})

    async def _report_analysis(self, interview_id: str) -> None:
        try:
            try:
                self.analysis_status = await self._wait_analysis(self.user_id, interview_id)
            except Exception as e:  # the interview is stored; the client can still fetch it
                log.warning("waiting for the analysis of %s failed: %s", interview_id, e)
                return
            self.emit(
                {
                    "type": "analysis_complete",
                    "interviewId": interview_id,
                    "status": self.analysis_status,
                }
            )
        finally:
            self.state = "done"

    async def _stop_tasks(self) -> None:
        if self.voice is not None:
            voice, self.voice = self.voice, None
            self._voiced = True
            try:
                self._voice_llm, self._voice_tts = voice.usage()
            except Exception as e:  # usage is worth a line in the log, never the interview
                log.warning("no usage from the voice interviewer of session %s: %s", self.id, e)
            with contextlib.suppress(Exception):
                await voice.aclose()
        # Dropped once stopped: a cancelled task keeps its traceback, whose frames hold this
        # session, and that cycle would keep every session's words until a full collection.
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._stream.aclose()

    async def aclose(self) -> None:
        """Stop at once: finishing and the wait for the analysis are cancelled."""
        for task in (self._finish_task, self._report_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._stop_tasks()
        if self.vocal is not None:
            await self.vocal.aclose()
        await self.source.aclose()
        if self.recorder is not None and self.interview_id is None:
            # not stored: the journal is kept for the next start, and the audio with it
            await asyncio.to_thread(self.recorder.keep)
