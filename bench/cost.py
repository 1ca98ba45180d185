"""Price an interview's recorded usage (docs/cost.md): `python -m bench.cost interview.json`
with the JSON of GET /api/interviews/{id}, or `--minutes 5` for a typical LiveKit interview
with the voice interviewer, built from the same fields coach records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from coach.usage import LlmCall, Usage

# List prices in USD, as published by each provider (see docs/cost.md for the dates).
DEEPGRAM_NOVA3_STREAMING_PER_MIN = 0.0077
LLM_PER_TOKEN = {"gpt-4.1-mini": (0.40e-6, 1.60e-6)}  # (input, output)
TTS_PER_MIN = 0.015  # gpt-4o-mini-tts, OpenAI's estimate per minute of speech
LIVEKIT_PER_PARTICIPANT_MIN = 0.0005
EGRESS_PER_MIN = 0.005
STT_PER_MIN = {"deepgram": DEEPGRAM_NOVA3_STREAMING_PER_MIN}


def price(usage: Usage, *, tts_minutes: float = 0.0) -> dict[str, float]:
    """Dollars per line item; local speech-to-text and the offline coach cost nothing."""
    lines: dict[str, float] = {}
    for provider, seconds in usage.stt_seconds.items():
        lines[f"stt {provider}"] = seconds / 60 * STT_PER_MIN.get(provider, 0.0)
    for call in usage.llm:
        rate_in, rate_out = LLM_PER_TOKEN.get(call.model, (0.0, 0.0))
        key = f"llm {call.model} {call.purpose}"
        lines[key] = lines.get(key, 0.0) + call.input_tokens * rate_in
        lines[key] += call.output_tokens * rate_out
    lines["tts"] = tts_minutes * TTS_PER_MIN
    lines["livekit participants"] = usage.livekit_participant_minutes * LIVEKIT_PER_PARTICIPANT_MIN
    lines["egress"] = usage.egress_minutes * EGRESS_PER_MIN
    return lines


def typical(minutes: float) -> tuple[Usage, float]:
    """A LiveKit interview with the voice interviewer, as coach records it, and TTS minutes.

    Tokens: the analysis prompt measured from the fixtures (about 1,400 characters of fixed
    text plus the transcript, schema and system prompt, at 4 characters a token) for 140 words
    a minute; the interviewer's turns: one every 40 s, each resending the instructions and the
    conversation so far. The interviewer speaks about 30 % of the time.
    """
    words = 140 * minutes
    analysis_in = int((1400 + 600 + 1500 + words * 5.5) / 4)
    turns = max(1, int(minutes * 60 / 40))
    agent_in = sum(600 + int(k * 40 * 140 / 60 * 1.4) for k in range(turns))
    seconds = minutes * 60
    usage = Usage(
        # one stream: the voice interviewer hears through the session's recognizer
        stt_seconds={"deepgram": seconds},
        llm=[
            LlmCall(
                model="gpt-4.1-mini",
                purpose="analysis",
                input_tokens=analysis_in,
                output_tokens=900,
            ),
            LlmCall(
                model="gpt-4.1-mini",
                purpose="interviewer",
                input_tokens=agent_in,
                output_tokens=turns * 60,
            ),
        ],
        livekit_participant_minutes=3 * minutes,
        egress_minutes=minutes,
    )
    return usage, 0.3 * minutes


def main() -> None:
    """Print the priced lines and the total."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("interview", nargs="?", type=Path)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--tts-minutes", type=float, default=None)
    args = parser.parse_args()
    if args.interview is not None:
        data: dict[str, Any] = json.loads(args.interview.read_text())
        usage = Usage.model_validate(data.get("usage") or {})
        recorded = sum(usage.tts_seconds.values()) / 60
        tts = args.tts_minutes if args.tts_minutes is not None else recorded
    else:
        usage, tts = typical(args.minutes)
        if args.tts_minutes is not None:
            tts = args.tts_minutes
    lines = price(usage, tts_minutes=tts)
    for name, dollars in lines.items():
        sys.stdout.write(f"{name:40s} ${dollars:.4f}\n")
    sys.stdout.write(f"{'total':40s} ${sum(lines.values()):.4f}\n")


if __name__ == "__main__":
    main()
