"""Read the listening rules file and refuse a bad one with the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from config.loader import config_error, read_yaml
from connectors.listening import ListeningRules

__all__ = ["load_listening_rules"]


def load_listening_rules(path: Path) -> ListeningRules:
    data = read_yaml(path)
    try:
        return ListeningRules.model_validate(data)
    except ValidationError as exc:
        raise config_error(path, exc) from exc
