"""One-line reasons for refused payloads, shared by the stream and webhook parsers."""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

__all__ = ["validation_reason"]

_MAX_REASONS: Final = 3


def validation_reason(exc: ValidationError) -> str:
    """The first few validation problems as ``field: reason``, joined by ``; ``."""
    errors = exc.errors(include_url=False)
    parts = []
    for error in errors[:_MAX_REASONS]:
        path = ".".join(str(part) for part in error["loc"])
        msg = error["msg"].removeprefix("Value error, ")
        parts.append(f"{path}: {msg}" if path else msg)
    if len(errors) > _MAX_REASONS:
        parts.append(f"and {len(errors) - _MAX_REASONS} more")
    return "; ".join(parts)
