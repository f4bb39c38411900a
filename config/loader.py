"""Read the operator's files (settings, roster, taxonomy) and refuse bad ones with a clear error."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsConfigDict

from config.settings import DEFAULT_CONFIG_FILE, Settings
from routing.errors import ConfigError
from routing.models import UNKNOWN_TOPIC, Employee, Taxonomy

M = TypeVar("M", bound=BaseModel)


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def config_error(source: Path | str, exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first validation problem as a ConfigError naming file, field and reason."""
    first = exc.errors(include_url=False)[0]
    field = _field([*([prefix] if prefix else []), *first["loc"]])
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    reason = first["msg"].removeprefix("Value error, ")
    return ConfigError(str(source), field, f"{reason}{extra}")


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), "", f"invalid YAML{where}: {problem}") from exc


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path`` (or the default file when it exists) overridden by the environment."""
    if path is None and DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        data = read_yaml(path)  # a clear error for a missing or broken file before pydantic's
        if data is not None and not isinstance(data, dict):
            raise ConfigError(str(path), "", "expected a mapping of settings sections")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        return FileSettings()
    except ValidationError as exc:
        raise config_error(path or "environment", exc) from exc


def _mapping(path: Path, data: Any, key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ConfigError(str(path), key, f"missing top-level key '{key}'")
    return data[key]


def load_taxonomy(path: Path) -> Taxonomy:
    data = read_yaml(path)
    return _validate(path, Taxonomy, data)


def load_roster(path: Path, taxonomy: Taxonomy | None = None) -> tuple[Employee, ...]:
    """The employees in ``path``; with a taxonomy, every skill must name one of its topics."""
    entries = _mapping(path, read_yaml(path), "employees")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(str(path), "employees", "expected a non-empty list of employees")
    employees = tuple(
        _validate(path, Employee, entry, prefix=f"employees.{i}") for i, entry in enumerate(entries)
    )
    seen: set[str] = set()
    for i, employee in enumerate(employees):
        if employee.id in seen:
            raise ConfigError(str(path), f"employees.{i}.id", f"duplicate id '{employee.id}'")
        seen.add(employee.id)
        if taxonomy is not None:
            known = set(taxonomy.topics) | {UNKNOWN_TOPIC}
            for topic in employee.skills:
                if topic not in known:
                    raise ConfigError(
                        str(path),
                        f"employees.{i}.skills.{topic}",
                        f"unknown topic '{topic}'; the taxonomy has {', '.join(sorted(known))}",
                    )
    return employees


def _validate(path: Path, model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error(path, exc, prefix) from exc
