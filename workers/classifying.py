"""Ad-hoc classification (`mention-router classify`), the urgency policy file, and corrections.

A correction is a person's fix of a tag, kept as labeled data: one JSON object per line,

    {"mention_id": "x:1", "text": "...", "labels": {"topic": "billing"},
     "previous": {"topic": "delivery"}, "corrected_by": "anna",
     "corrected_at": "2026-03-02T09:20:00+01:00", "model_version": "0123456789ab"}

Only ``mention_id``, ``text`` and ``labels`` are required. `mention-router train --corrections
FILE` adds them to the training data; the latest correction of a mention wins, head by head.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TextIO

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from config.loader import config_error, read_yaml
from config.settings import Settings
from connectors.codec import decode_mention
from routing.errors import MalformedMentionError, TrainingDataError
from routing.models import UNKNOWN_TOPIC, Author, Classification, Mention, Taxonomy, Urgency
from routing.tagger import Tagger
from routing.urgency import UrgencyPolicy
from workers.modelfile import load_model

_HeadName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
_Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
_PLAIN_PLATFORM = "text"
_AD_HOC_MINUTES = 10.0


def load_policy(path: Path | None) -> UrgencyPolicy:
    """The urgency policy in ``path`` (YAML), or the built-in one when ``path`` is None."""
    if path is None:
        return UrgencyPolicy()
    data = read_yaml(path)
    try:
        return UrgencyPolicy.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise config_error(path, exc) from exc


class Correction(BaseModel):
    """A person's fix of one mention's tags: the text and the right label per head."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mention_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    labels: dict[_HeadName, _Label] = Field(min_length=1)
    previous: dict[_HeadName, str] = Field(default_factory=dict)
    corrected_by: str = ""
    corrected_at: AwareDatetime | None = None
    model_version: str = ""

    @classmethod
    def of(
        cls,
        mention: Mention,
        labels: dict[str, str],
        *,
        was: Classification | None = None,
        by: str = "",
        at: datetime | None = None,
    ) -> Correction:
        """The correction of ``mention`` to ``labels``, remembering what ``was`` said."""
        previous = {}
        if was is not None:
            tags = was.model_dump(mode="json")
            previous = {head: str(tags[head]) for head in labels if head in tags}
        return cls(
            mention_id=mention.id,
            text=mention.text,
            labels=labels,
            previous=previous,
            corrected_by=by,
            corrected_at=at,
            model_version=was.model_version if was is not None else "",
        )


class CorrectionStore:
    """An append-only JSON-lines file of corrections; each append is on disk when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, corrections: Iterable[Correction]) -> int:
        lines = b"".join(
            c.__pydantic_serializer__.to_json(c, exclude_defaults=True) + b"\n" for c in corrections
        )
        if not lines:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())
        return lines.count(b"\n")

    def read(self) -> list[Correction]:
        return read_corrections([self.path])


def read_corrections(paths: Sequence[Path]) -> list[Correction]:
    """Every correction in ``paths``, in file order; a bad line is an error naming its place."""
    found: list[Correction] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TrainingDataError(
                f"cannot read corrections file {path}: {exc.strerror or exc}"
            ) from exc
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                found.append(_correction(path, number, line))
    return found


def _correction(path: Path, number: int, line: str) -> Correction:
    try:
        return Correction.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        raise TrainingDataError(f"{path}:{number}: {where}: {first['msg']}") from exc


def latest_labels(corrections: Iterable[Correction]) -> dict[str, tuple[str, dict[str, str]]]:
    """Mention id -> (text, head -> label), later corrections overriding earlier ones."""
    merged: dict[str, tuple[str, dict[str, str]]] = {}
    for c in corrections:
        _, labels = merged.get(c.mention_id, (c.text, {}))
        merged[c.mention_id] = (c.text, {**labels, **c.labels})
    return merged


# --- mention-router classify -------------------------------------------------------------


def classify(args: argparse.Namespace, settings: Settings) -> int:
    """Print one classification per input line as JSON lines."""
    options = settings.classifier
    model = load_model(args.model or options.model)
    topics = model.heads.get("topic", [])
    tagger = Tagger(
        model,
        _ad_hoc_taxonomy(topics),
        policy=load_policy(options.urgency_policy),
        unknown_threshold=options.unknown_threshold,
    )
    source = args.file
    handle = sys.stdin if source is None else source.open(encoding="utf-8")
    try:
        # One at a time on a terminal, so each answer comes back as soon as a line is typed.
        batch = 1 if handle.isatty() else options.batch_size
        name = "<stdin>" if source is None else str(source)
        bad = classify_lines(tagger, handle, sys.stdout, batch_size=batch, source=name)
    finally:
        if source is not None:
            handle.close()
    if bad:
        print(f"mention-router: {bad} line(s) could not be read", file=sys.stderr)
    return 0


def _ad_hoc_taxonomy(topics: Sequence[str]) -> Taxonomy:
    # Ad hoc, every topic the model knows is a topic; the router's taxonomy plays no part.
    spec = {"handling_minutes": _AD_HOC_MINUTES}
    return Taxonomy.model_validate(
        {
            "topics": {t: spec for t in [*topics, UNKNOWN_TOPIC] if _is_topic_name(t)},
            "urgency": {u.value: {"sla_minutes": 60, "weight": 1} for u in Urgency},
        }
    )


def _is_topic_name(name: str) -> bool:
    return bool(name) and name[0].isalpha() and name.islower() and name.replace("_", "").isalnum()


def classify_lines(
    tagger: Tagger, lines: TextIO, out: TextIO, *, batch_size: int = 512, source: str = ""
) -> int:
    """Classify ``lines`` (stream JSONL or plain text) in batches; returns how many were bad."""
    bad = 0
    numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
    while chunk := list(islice(numbered, batch_size)):
        mentions: list[Mention] = []
        for number, line in chunk:
            try:
                mentions.append(mention_of(line, number, source))
            except MalformedMentionError as exc:
                print(f"mention-router: {exc}", file=sys.stderr)
                bad += 1
        for c in tagger.tag(mentions):
            out.write(orjson.dumps(_output(c)).decode() + "\n")
        out.flush()
    return bad


def mention_of(line: str, number: int, source: str = "") -> Mention:
    """A stream record (a JSON object) as it is, or a line of plain text as a mention."""
    stripped = line.strip()
    if stripped.startswith("{"):
        return decode_mention(stripped, line=number, source=source)
    # Each plain line is its own author: lines of a file are not one person complaining.
    return Mention(
        id=f"line:{number}",
        platform=_PLAIN_PLATFORM,
        author=Author(id=f"line:{number}"),
        text=stripped,
        created_at=datetime.now(UTC),
    )


def _output(c: Classification) -> dict[str, Any]:
    return {
        "mention_id": c.mention_id,
        "topic": c.topic,
        "urgency": c.urgency.value,
        "language": c.language,
        "sentiment": c.sentiment.value,
        "confidence": c.confidence,
        "urgency_reasons": list(c.urgency_reasons),
        "model_version": c.model_version,
    }
