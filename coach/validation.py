"""Pydantic validation errors said the way coach's clients read them: "field.path: why"."""

from __future__ import annotations

from pydantic import ValidationError


def first_error(e: ValidationError, *, whole: str) -> str:
    """The first error as "where: message"; `whole` names the input when no field is at fault."""
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or whole
    return f"{where}: {first['msg']}"
