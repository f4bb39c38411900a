"""Model files on disk: atomic save, and load with errors that say what to do next."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from routing.classifier import MentionClassifier
from routing.errors import ModelError

_HINT = "train one with `mention-router train` (or `make demo` for the demo model)"


def save_model(clf: MentionClassifier, path: Path) -> None:
    """Write ``clf`` to ``path`` atomically: readers see the old file or the new one, never half."""
    data = clf.to_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def load_model(path: Path) -> MentionClassifier:
    """Read a model file; every failure is a :class:`ModelError` naming ``path``.

    Raises ModelFormatError for a file that is not ours or holds untrusted types, and
    ModelVersionError for one trained with another scikit-learn.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"no model file at {path}: {_HINT}") from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    return MentionClassifier.from_bytes(data, source=str(path))
