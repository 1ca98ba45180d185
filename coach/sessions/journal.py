"""A live session's words on disk as they are heard, so a killed process loses no interview.

One JSON line per record, appended and flushed (not fsynced: the kernel keeps what a killed
process wrote; only a power cut could take the last lines). A clean finish deletes the file;
the next start stores every journal it finds as the interview it was. With a `FileWorker` the
writes run on its thread in order, so a slow disk never holds up the loop carrying the audio;
a kill loses at most the few lines still queued (milliseconds of work).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from coach.encryption import EncryptionError, seal, unseal
from coach.file_worker import FileWorker
from coach.private_files import private_file
from coach.speech.accumulator import SpeechAccumulator, SpeechConfig
from coach.speech.summary import SessionSummary
from coach.speech.words import QuestionTiming, Word

log = logging.getLogger("coach.sessions.journal")


def journal_user(path: Path) -> str | None:
    """The user a journal file belongs to (its first line says), or None if unreadable."""
    try:
        with path.open(encoding="utf-8") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    user = header.get("userId") if isinstance(header, dict) else None
    return user if isinstance(user, str) else None


class Journal:
    """Appends one session's final words, questions and clock to `<dir>/<session>.jsonl`."""

    def __init__(
        self,
        path: Path,
        header: dict[str, Any],
        data_key: bytes | None = None,
        *,
        worker: FileWorker | None = None,
    ) -> None:
        self.path = path
        self._key = data_key
        self._worker = worker
        self._lane = f"journal:{path.name}"
        self._where = _where(str(header.get("sessionId", "")))
        self._file: IO[str] | None = None
        self._open = True  # until close(); the file itself is opened by the first job
        self._failed = False
        # the header stays in clear: recovery and erasure find the journal's user by it
        self._write({"kind": "session", **header, "sealed": data_key is not None}, clear=True)

    def _job(self, fn: Callable[..., None], *args: Any) -> None:
        if self._worker is None:
            fn(*args)
        else:
            self._worker.submit(self._lane, fn, *args)

    def _write(self, record: dict[str, Any], *, clear: bool = False) -> None:
        if not self._open:
            return
        # sealed and serialised on the worker too: at a few hundred sessions the cipher's
        # set-up on every final was a visible share of the loop
        self._job(self._append, record, clear)

    def _append(self, record: dict[str, Any], clear: bool) -> None:
        if self._failed:
            return
        if self._key is not None and not clear:
            # what the candidate said, sealed line by line with their data key
            record = {"kind": "sealed", "data": seal(self._key, record, self._where)}
        line = json.dumps(record, separators=(",", ":")) + "\n"
        try:
            if self._file is None:
                self._file = private_file(self.path).open("a", encoding="utf-8")
            self._file.write(line)
            self._file.flush()
        except OSError as e:  # a full disk must not end the interview; the log says so
            log.error("journal write failed, crash safety is off for this session: %s", e)
            self._failed = True
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as e:
                log.error("closing journal %s failed: %s", self.path.name, e)
            self._file = None

    def words(self, words: tuple[Word, ...]) -> None:
        """A final result."""
        self._write(
            {
                "kind": "words",
                "words": [[w.word, w.start, w.end, w.confidence, w.punctuated_word] for w in words],
            }
        )

    def question(self, question: QuestionTiming) -> None:
        """The interviewer asked something."""
        self._write({"kind": "question", "text": question.text, "askedAt": question.asked_at})

    def clock(self, t: float) -> None:
        """Audio heard so far (written every few seconds)."""
        self._write({"kind": "clock", "t": round(t, 3)})

    def close(self) -> None:
        """Stop writing; the file stays."""
        if self._open:
            self._open = False
            self._job(self._close_file)

    def discard(self) -> None:
        """The session is stored: the journal is no longer needed."""
        self.close()
        self._job(self._unlink)

    def _unlink(self) -> None:
        self._close_file()
        self.path.unlink(missing_ok=True)


@dataclass
class Recovered:
    """A session rebuilt from its journal."""

    path: Path
    header: dict[str, Any]
    summary: SessionSummary
    words: int = field(default=0)
    questions: tuple[QuestionTiming, ...] = ()


def _where(session_id: str) -> str:
    return f"journal:{session_id}"


def _records(path: Path, data_key: bytes | None = None) -> Iterator[dict[str, Any]]:
    where = ""
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                # the process died mid-line: everything before it is good
                return
            if record.get("kind") == "session":
                where = _where(str(record.get("sessionId", "")))
            elif record.get("kind") == "sealed":
                if data_key is None:
                    raise EncryptionError(f"{path.name} is sealed and no key was given")
                record = unseal(data_key, record["data"], where)
            yield record


def recover(path: Path, config: SpeechConfig, data_key: bytes | None = None) -> Recovered | None:
    """The summary a journal holds (its user's key opens sealed lines), or None if headless."""
    header: dict[str, Any] | None = None
    acc = SpeechAccumulator(config)
    count = 0
    for record in _records(path, data_key):
        kind = record.get("kind")
        if kind == "session":
            header = record
        elif kind == "words":
            words = [Word(w[0], w[1], w[2], w[3], w[4]) for w in record["words"]]
            acc.update(words, is_final=True)
            count += len(words)
        elif kind == "question":
            acc.add_question(QuestionTiming(record["text"], record["askedAt"]))
        elif kind == "clock":
            acc.advance(record["t"])
    if header is None:
        return None
    return Recovered(path, header, acc.summary(), count, acc.questions)
