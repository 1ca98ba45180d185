"""The `coach` command line: analyze a recording offline, or serve the API."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coach.analysis.feedback import AiAnalysis
from coach.settings import Settings, SettingsError, load_settings
from coach.speech.summary import SessionSummary

app = typer.Typer(
    name="coach",
    help="Interview coaching: transcribe an answer, measure how it was spoken, coach it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Exit(IntEnum):
    """Exit codes, documented in the README."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    NO_SPEECH = 3


def _fail(message: str, code: Exit = Exit.BAD_INPUT) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(int(code))


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as e:
        raise _fail(str(e)) from None
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The model library narrates every window it decodes; the progress bar says enough.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return settings


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def render_report(summary: SessionSummary, analysis: AiAnalysis, console: Console) -> None:
    """Print a readable coaching report."""
    console.rule("[bold]Coaching report")
    console.print(
        f"[bold]Overall {analysis.overall_score}/100[/]   "
        f"confidence {analysis.confidence_score}/100   "
        f"{summary.total_words} words in {_clock(summary.duration)}"
    )
    console.print()
    console.print(analysis.summary)
    console.print()
    console.print("[bold]Pace[/]")
    pace = f"  {summary.average_pace:.0f} wpm overall"
    if summary.speaking_pace is not None:
        pace += f", {summary.speaking_pace:.0f} wpm while speaking"
    console.print(pace)
    if summary.pace_timeline:
        console.print(
            "  "
            + "  ".join(
                f"{_clock(p.segment_start)}-{_clock(p.segment_end)} {p.wpm:.0f}"
                for p in summary.pace_timeline
            )
        )
    console.print(f"  {analysis.pace_analysis}")
    console.print()
    console.print(f"[bold]Fillers ({len(summary.fillers)})[/]")
    console.print(f"  {analysis.filler_analysis}")
    if summary.fillers:
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
        table.add_column("time", justify="right")
        table.add_column("filler")
        table.add_column("in context")
        for f in summary.fillers:
            table.add_row(
                _clock(f.timestamp),
                f.word,
                f"…{f.context_before} [bold]{f.word}[/] {f.context_after}…",
            )
        console.print(table)
    console.print()
    console.print(f"[bold]Long pauses ({len(summary.pauses)})[/]")
    for p in summary.pauses:
        console.print(f"  {_clock(p.timestamp)}  {p.duration:.1f} s of silence")
    for q in summary.questions:
        if q.response_latency is not None:
            console.print(f"  {q.response_latency:.1f} s before answering “{q.text}”")
    if analysis.improvements:
        console.print()
        console.print("[bold]What to improve[/]")
        for i, imp in enumerate(analysis.improvements, 1):
            console.print(f"  {i}. [bold]{imp.title}[/] (at {_clock(imp.timestamp)})")
            console.print(f"     {imp.description}")
    if analysis.highlights:
        console.print()
        console.print("[bold]Highlights[/]")
        for h in analysis.highlights:
            console.print(f"  • {h}")
    console.print()
    console.print("[bold]Transcript[/]")
    console.print(summary.transcript or "(no speech found)")


def _coach(settings: Settings, summary: SessionSummary, questions: tuple[str, ...]) -> AiAnalysis:
    """The offline coach, or the OpenAI analyzer when a key is set."""
    from coach.analysis.factory import build_analyzer
    from coach.providers import ProviderError

    analyzer = build_analyzer(settings)

    async def run() -> AiAnalysis:
        try:
            return await analyzer.analyze(summary, questions=questions)
        finally:
            await analyzer.aclose()

    try:
        return asyncio.run(run())
    except ProviderError as e:
        raise _fail(f"coaching analysis failed: {e}", Exit.FAILED) from None


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(help="A recording: WAV, MP3, M4A, OGG/Opus, WebM…")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the SessionSummary and aiAnalysis as JSON.")
    ] = False,
    question: Annotated[
        list[str] | None,
        typer.Option("--question", "-q", help="The interview question answered (repeatable)."),
    ] = None,
) -> None:
    """Transcribe a recorded answer locally, measure it and print coaching feedback."""
    settings = _settings()

    # Imported here so `coach --help` and `coach serve` don't load the speech model's stack.
    from coach.audio.decode import AudioError, probe_duration
    from coach.speech.metrics import SpeechConfig, summarize
    from coach.stt.models import ModelError
    from coach.stt.whisper import LocalWhisper

    if not file.exists():
        raise _fail(f"{file}: no such file")
    if file.is_dir():
        raise _fail(f"{file}: is a directory, not a recording")
    try:
        total = probe_duration(file)
    except AudioError as e:
        raise _fail(str(e)) from None

    transcriber = LocalWhisper(settings)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("Transcribing", total=total or None, done="")

        def on_progress(done: float, total_s: float | None) -> None:
            progress.update(
                task,
                completed=done,
                total=total_s or total or None,
                done=f"{_clock(done)} / {_clock(total_s or total or 0)}",
            )

        try:
            transcription = transcriber.transcribe_file(file, on_progress=on_progress)
        except (AudioError, ModelError) as e:
            raise _fail(str(e)) from None

    config = SpeechConfig(
        pause_threshold=settings.pause_threshold_seconds,
        segment_seconds=settings.pace_segment_seconds,
    )
    summary = summarize(
        transcription.words,
        duration=transcription.duration,
        silences=transcription.silences,
        config=config,
    )
    analysis = _coach(settings, summary, tuple(question or ()))

    if as_json:
        payload = summary.model_dump(mode="json", by_alias=True)
        payload["aiAnalysis"] = analysis.model_dump(mode="json", by_alias=True)
        out.print_json(json.dumps(payload))
    else:
        render_report(summary, analysis, out)
    if summary.total_words == 0:
        err.print(f"No speech was found in {file}.")
        raise typer.Exit(int(Exit.NO_SPEECH))


@app.command()
def practice(
    file: Annotated[Path, typer.Argument(help="A recording to stream as if spoken live.")],
    server: Annotated[
        str | None,
        typer.Option(help="A running coach server (http://host:port); default: one in-process."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Bearer token for --server (from /api/auth/login).")
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0.1, max=50.0, help="1 streams in real time; 4 four times faster.")
    ] = 1.0,
) -> None:
    """Stream a recording through a live session, showing words as they are heard, then coach it."""
    settings = _settings()
    from coach.audio.decode import AudioError, probe_duration
    from coach.practice import PracticeError, Server, local_server, pcm_frames, stream_recording

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    if server is not None and token is None:
        raise _fail("--server needs --token (log in with POST /api/auth/login)")
    try:
        probe_duration(file)
        frames = pcm_frames(file)
    except AudioError as e:
        raise _fail(str(e)) from None

    def show(event: dict[str, object]) -> None:
        kind = event.get("type")
        if kind == "transcript" and event.get("isFinal"):
            out.print(f"[dim]{_clock(float(str(event['start'])))}[/]  {event['text']}")
        elif kind == "metrics":
            err.print(
                f"[dim]{_clock(float(str(event['elapsed'])))} · {event['wpm']} wpm now · "
                f"{event['fillers']} fillers[/]"
            )
        elif kind == "question":
            out.print(f"[bold]Interviewer:[/] {event['text']}")
        elif kind == "session_complete":
            err.print("Analyzing…")
        elif kind == "error":
            err.print(f"[yellow]{event.get('code')}:[/] {event.get('message')}")

    async def run() -> dict[str, object]:
        if server is not None and token is not None:
            target = Server(server.rstrip("/"), token)
            return await stream_recording(target, frames, speed=speed, on_event=show)
        from coach.app import create_app

        async with local_server(create_app(settings)) as target:
            return await stream_recording(target, frames, speed=speed, on_event=show)

    try:
        interview = asyncio.run(run())
    except PracticeError as e:
        raise _fail(str(e), Exit.FAILED) from None
    summary = SessionSummary.model_validate(interview)
    if interview.get("status") != "completed" or not interview.get("aiAnalysis"):
        raise _fail(
            f"the analysis {interview.get('status')}: {interview.get('error')}", Exit.FAILED
        )
    render_report(summary, AiAnalysis.model_validate(interview["aiAnalysis"]), out)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT, 3000).")] = None,
) -> None:
    """Run the API and WebSocket server."""
    settings = _settings()
    import uvicorn

    from coach.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


def main() -> None:
    """Entry point of the `coach` script."""
    app()
