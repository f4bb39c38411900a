"""Bytes on the wire and in files: mentions, classified mentions and routing outcomes as JSON."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from routing.errors import MalformedMentionError
from routing.models import Assignment, Classification, Mention, NotAssigned, Outcome

__all__ = [
    "decode_classified",
    "decode_mention",
    "decode_outcome",
    "encode_classified",
    "encode_mention",
    "encode_outcome",
]

_WITHOUT_RAW: Final[set[str]] = {"raw"}
_OUTCOME: Final[TypeAdapter[Assignment | NotAssigned]] = TypeAdapter(Outcome)
# Serializers called directly: ``model_dump_json`` would build a str only to encode it again.
_MENTION_JSON: Final = Mention.__pydantic_serializer__
_CLASSIFICATION_JSON: Final = Classification.__pydantic_serializer__
_ASSIGNMENT_JSON: Final = Assignment.__pydantic_serializer__
_NOT_ASSIGNED_JSON: Final = NotAssigned.__pydantic_serializer__
_MAX_REASONS: Final = 3
_JSON_TYPES: Final = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
_BOUNDS: Final = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


class _Classified(BaseModel):
    """The record of the classified-mentions topic: a mention beside the classifier's tags."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mention: Mention
    classification: Classification


def encode_mention(m: Mention) -> bytes:
    """One compact JSON object in field order (no newline); ``raw`` is left out when None."""
    # Field order comes from the model, so the same mention always gives the same bytes.
    return _MENTION_JSON.to_json(m, exclude=_WITHOUT_RAW if m.raw is None else None)


def decode_mention(data: bytes | str, *, line: int | None = None, source: str = "") -> Mention:
    """Parse one stream record; raise ``MalformedMentionError`` with a one-line reason."""
    try:
        return Mention.model_validate_json(data)
    except ValidationError as exc:
        raise MalformedMentionError(_reason(exc, data), line=line, source=source) from exc


def encode_classified(m: Mention, c: Classification) -> bytes:
    """``{"mention": {...}, "classification": {...}}`` for the classified-mentions topic."""
    return b"".join(
        (
            b'{"mention":',
            encode_mention(m),
            b',"classification":',
            _CLASSIFICATION_JSON.to_json(c),
            b"}",
        )
    )


def decode_classified(data: bytes | str) -> tuple[Mention, Classification]:
    """Parse a classified-mentions record back into the mention and its classification."""
    try:
        record = _Classified.model_validate_json(data)
    except ValidationError as exc:
        raise MalformedMentionError(_reason(exc, data)) from exc
    return record.mention, record.classification


def encode_outcome(o: Assignment | NotAssigned) -> bytes:
    """One JSON object per outcome, discriminated by ``status``; same outcome, same bytes."""
    # Each type's own serializer: the bytes of the union's, without picking the member.
    if type(o) is Assignment:
        return _ASSIGNMENT_JSON.to_json(o)
    if type(o) is NotAssigned:
        return _NOT_ASSIGNED_JSON.to_json(o)
    return _OUTCOME.dump_json(o)


def decode_outcome(data: bytes | str) -> Assignment | NotAssigned:
    """Parse an outcome line; ``MalformedMentionError`` names what is wrong."""
    try:
        return _OUTCOME.validate_json(data)
    except ValidationError as exc:
        raise MalformedMentionError(f"outcome: {_reason(exc, data)}") from exc


def _reason(exc: ValidationError, data: bytes | str) -> str:
    """A one-line summary of a validation error: field paths and short reasons."""
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid" and isinstance(data, bytes):
        bad_utf8 = _utf8_problem(data)
        if bad_utf8:
            return bad_utf8
    parts = [_describe(e) for e in errors[:_MAX_REASONS]]
    if len(errors) > _MAX_REASONS:
        parts.append(f"and {len(errors) - _MAX_REASONS} more")
    return "; ".join(parts)


def _utf8_problem(data: bytes) -> str:
    try:
        data.decode()
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8: byte 0x{data[exc.start]:02x} at position {exc.start}"
    return ""


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    path = ".".join(str(part) for part in error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "json_invalid":
        return f"invalid JSON: {ctx.get('error', error['msg'])}"
    if kind == "extra_forbidden":
        return f"unknown field {path!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        got = _JSON_TYPES.get(type(error.get("input")), "something else")
        expected = f"expected a JSON object, got {got}"
        return f"{path}: {expected}" if path else expected
    problem = _problem(kind, ctx, error["msg"])
    return f"{path}: {problem}" if path else problem


def _problem(kind: str, ctx: dict[str, Any], msg: str) -> str:
    if kind == "missing":
        return "field required"
    if kind == "string_unicode":
        return "not valid UTF-8 text"
    if kind == "timezone_aware":
        return "must include a UTC offset (e.g. +00:00 or Z)"
    if kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        return f"must be {op} {ctx.get(key)}"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}"
    return msg[:1].lower() + msg[1:]
