"""The `coach` command line: analyze a recording offline, or serve the API."""

from __future__ import annotations

import asyncio
import json
from enum import IntEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coach import logs
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
    # the same handler and format as the server's (the model library's narration is quieted)
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def _timeline_lines(summary: SessionSummary) -> list[str]:
    """Pace segments, each with its speaking rate; runs of silent segments folded into one."""
    lines: list[str] = []
    silent_from: float | None = None
    for p in summary.pace_timeline:
        if p.speaking_wpm is None:
            silent_from = p.segment_start if silent_from is None else silent_from
            continue
        if silent_from is not None:
            lines.append(f"{_clock(silent_from)}-{_clock(p.segment_start)}  little or no speech")
            silent_from = None
        lines.append(
            f"{_clock(p.segment_start)}-{_clock(p.segment_end)}  speaking rate"
            f" {p.speaking_wpm:.0f} wpm, overall {p.wpm:.0f} wpm"
        )
    if silent_from is not None and summary.pace_timeline:
        end = summary.pace_timeline[-1].segment_end
        lines.append(f"{_clock(silent_from)}-{_clock(end)}  little or no speech")
    return lines


def _listed(console: Console, title: str, mark: str, lines: list[str]) -> None:
    if lines:
        console.print()
        console.print(f"[bold]{title}[/]")
        for line in lines:
            console.print(f"  {mark} {line}")


def render_report(summary: SessionSummary, analysis: AiAnalysis, console: Console) -> None:
    """Print a readable coaching report; every moment is on one clock (a pause at its start)."""
    from coach.analysis.findings import is_misheard

    console.rule("[bold]Coaching report")
    console.print(
        f"[bold]Overall {analysis.overall_score}/100[/]   "
        f"confidence {analysis.confidence_score}/100   "
        f"{summary.total_words} words in {_clock(summary.duration)}"
    )
    console.print()
    console.print(analysis.summary)
    _listed(console, "Strengths", "+", analysis.strengths)
    _listed(console, "To work on", "-", analysis.weaknesses)
    console.print()
    console.print("[bold]Pace[/]")
    pace = f"  overall rate (silences included) {summary.average_pace:.0f} wpm"
    if summary.speaking_pace is not None:
        pace = f"  speaking rate (long pauses removed) {summary.speaking_pace:.0f} wpm;" + pace[1:]
    console.print(pace)
    for line in _timeline_lines(summary):
        console.print(f"  {line}")
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
                f.word + (" (heard)" if f.source == "audio" else ""),
                f"…{f.context_before} [bold]{f.word}[/] {f.context_after}…",
            )
        console.print(table)
    if summary.hedges:
        console.print()
        console.print(f"[bold]Hedges ({len(summary.hedges)})[/]")
        for hedge in summary.hedges:
            console.print(
                f"  {_clock(hedge.timestamp)}  …{hedge.context_before} [bold]{hedge.word}[/]"
                f" {hedge.context_after}…"
            )
    if summary.repetitions:
        console.print()
        console.print(f"[bold]Repeated words ({len(summary.repetitions)})[/]")
        for r in summary.repetitions:
            console.print(f"  {_clock(r.timestamp)}  “{r.word}” {r.count} times in a row")
    console.print()
    console.print(f"[bold]Long pauses ({len(summary.pauses)})[/]")
    for p in summary.pauses:
        console.print(f"  {_clock(p.timestamp)}  {p.duration:.1f} s of silence")
    for q in summary.questions:
        if q.response_latency is not None:
            console.print(f"  {q.response_latency:.1f} s before answering “{q.text}”")
    vv = summary.vocal_variety
    if vv is not None and vv.pitch_sd_semitones is not None:
        console.print()
        console.print("[bold]Vocal variety[/]")
        console.print(
            f"  pitch varies {vv.pitch_sd_semitones:.1f} semitones (SD), range"
            f" {vv.pitch_range_semitones or 0:.1f} st; loudness varies"
            f" {vv.loudness_sd_db or 0:.1f} dB"
        )
        for found in analysis.findings:
            if found.measure == "pitch_variation" and found.text:
                console.print(f"  {found.text}")
    for c in analysis.content:
        console.print()
        console.print(f"[bold]Content: “{c.question}”[/] ({c.kind})")
        if c.star is not None:
            starts = ", ".join(f"{k} at {_clock(t)}" for k, t in c.star.starts.items())
            console.print(
                f"  STAR: {', '.join(c.star.present) or 'none'} present"
                + (f" ({starts})" if starts else "")
                + (f"; missing {', '.join(c.star.missing)}" if c.star.missing else "")
            )
        if c.relevance is not None:
            console.print(f"  relevance to the question {c.relevance:.2f}")
        lo, hi = c.length_guide
        console.print(f"  {c.length_seconds:.0f} s long (guide {lo:.0f}–{hi:.0f} s)")
        if c.i_count + c.we_count:
            console.print(f"  “I” {c.i_count} times, “we” {c.we_count} times")
        for again in c.repeated_sentences:
            console.print(f"  said again at {_clock(again.timestamp)}: “{again.text}”")
        for found in c.findings:
            if found.text:
                mark = "+" if found.verdict == "strength" else "-"
                console.print(f"  {mark} {found.text}")
    if analysis.improvements:
        console.print()
        console.print("[bold]What to improve[/]")
        for i, imp in enumerate(analysis.improvements, 1):
            console.print(f"  {i}. [bold]{imp.title}[/] (at {_clock(imp.timestamp)})")
            console.print(f"     {imp.description}")
    _listed(console, "Highlights", "•", analysis.highlights)
    console.print()
    console.print("[bold]Transcript[/] (words in [dim]\\[?brackets][/] may be misheard)")
    if summary.words:
        console.print(
            " ".join(
                f"[dim]\\[?{escape(w.punctuated_word or w.word)}][/]"
                if is_misheard(w)
                else escape(w.punctuated_word or w.word)
                for w in summary.words
            )
        )
    else:
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
    if summary.total_words:
        from coach.audio.decode import iter_pcm
        from coach.audio.prosody import measure

        try:
            vocal = measure(iter_pcm(file), summary)
        except (AudioError, RuntimeError) as e:  # the report is still worth having without it
            err.print(f"vocal variety not measured: {e}")
        else:
            summary = summary.model_copy(update={"vocal_variety": vocal})
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
    drill: Annotated[
        str | None,
        typer.Option(
            help="Practise one habit instead: fillers, pace or pauses (docs/protocol.md)."
        ),
    ] = None,
    seconds: Annotated[
        int, typer.Option(min=60, max=120, help="How long the drill lasts (audio seconds).")
    ] = 90,
) -> None:
    """Stream a recording through a live session, showing words as they are heard, then coach it."""
    settings = _settings()
    from coach.audio.decode import AudioError, probe_duration
    from coach.drills import HABITS
    from coach.practice import PracticeError, Server, local_server, pcm_frames, stream_recording

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    if server is not None and token is None:
        raise _fail("--server needs --token (log in with POST /api/auth/login)")
    if drill is not None and drill not in HABITS:
        raise _fail(f"--drill: one of {', '.join(sorted(HABITS))}, not {drill!r}")
    start = {"drill": {"habit": drill, "seconds": seconds}} if drill is not None else None
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
            # the pace shows once it is measured on enough speech, never a 0 before the words
            pace = "— wpm" if event.get("speakingWpm") is None else f"{event['wpm']:.0f} wpm"
            err.print(
                f"[dim]{_clock(float(str(event['elapsed'])))} · {pace} now · "
                f"{event['fillers']} fillers[/]"
            )
        elif kind == "question":
            out.print(f"[bold]Interviewer:[/] {event['text']}")
        elif kind == "nudge":
            err.print(f"[cyan]{_clock(float(str(event['at'])))} hint:[/] {event['message']}")
        elif kind == "session_complete":
            err.print("Analyzing…")
        elif kind == "error":
            err.print(f"[yellow]{event.get('code')}:[/] {event.get('message')}")

    async def run() -> dict[str, object]:
        if server is not None and token is not None:
            target = Server(server.rstrip("/"), token)
            return await stream_recording(target, frames, speed=speed, on_event=show, start=start)
        from coach.app import create_app

        async with local_server(create_app(settings)) as target:
            return await stream_recording(target, frames, speed=speed, on_event=show, start=start)

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
    result = interview.get("drillResult")
    if isinstance(result, dict):
        # the drill's own result, read from the report's finding on its habit
        out.print(f"\n[bold]Drill: {result['title']}[/]  {result['score']}/100")
        out.print(f"  {result['text']}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT, 3000).")] = None,
) -> None:
    """Run the API and WebSocket server."""
    settings = _settings()
    import uvicorn

    from coach.app import create_app

    bind, at = host or settings.host, port or settings.port
    shown = "localhost" if bind in ("127.0.0.1", "0.0.0.0", "::") else bind
    err.print(
        f"Practise in your browser at http://{shown}:{at}/app"
        "  (API under /api, its description at /openapi.json)"
    )
    uvicorn.run(
        create_app(settings),
        host=bind,
        port=at,
        log_level=settings.log_level.lower(),
        ws_per_message_deflate=settings.ws_compression,
        # the app configures logging itself (coach.logs); uvicorn's own config would undo it
        log_config=None,
    )
    from coach.livekit.runtime import leave_if_native_runtime_ran

    # a clean stop must not end in LiveKit's runtime aborting the interpreter's finalization
    leave_if_native_runtime_ran(0)


def main() -> None:
    """Entry point of the `coach` script."""
    app()
