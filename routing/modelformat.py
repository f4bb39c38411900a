"""The model file format: a zip of ``manifest.json`` and a skops payload, loaded safely.

The manifest is read first, before anything is deserialized; loading refuses foreign files,
other scikit-learn versions and any type outside :data:`TRUSTED_TYPES`. No pickle anywhere.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import scipy
import sklearn
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from routing.errors import ModelFormatError, ModelVersionError

FORMAT_NAME = "mention-router-model"
# Version 2: heads are calibrated linear SVMs (version 1 held logistic regressions).
FORMAT_VERSION = 2
_MANIFEST = "manifest.json"
_PAYLOAD = "model.skops"
_MAX_MANIFEST_BYTES = 1 << 20

# Every type a model file may hold, by the name skops gives it; nothing else is ever loaded.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "builtins.bool",
    "numpy.float64",
    "numpy.ndarray",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.svm._classes.LinearSVC",
)


def library_versions() -> dict[str, str]:
    """The versions a model file records, so a mismatch is caught before deserializing."""
    return {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def pack(manifest: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    """A model file's bytes; the same model always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_member(_MANIFEST), json.dumps(manifest, indent=2, sort_keys=True))
        archive.writestr(_member(_PAYLOAD), sio.dumps(dict(payload)))
    return buffer.getvalue()


def unpack(data: bytes, *, source: str = "data") -> tuple[dict[str, Any], dict[str, Any]]:
    """The checked manifest and payload of a model file; ``source`` names it in errors."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ModelFormatError(f"{source} is not a mention-router model file") from exc
    with archive:
        manifest = read_manifest(archive, source=source)
        return manifest, _load_payload(archive, source)


def read_manifest(archive: zipfile.ZipFile, *, source: str = "data") -> dict[str, Any]:
    """The checked manifest of an open model file; raises before anything is deserialized."""
    not_ours = f"{source} is not a mention-router model file"
    try:
        if archive.getinfo(_MANIFEST).file_size > _MAX_MANIFEST_BYTES:
            raise ValueError("manifest too large")
        manifest = json.loads(archive.read(_MANIFEST))
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFormatError(f"{not_ours} (no readable {_MANIFEST})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFormatError(f"{not_ours} (its manifest is not a {FORMAT_NAME} manifest)")
    if manifest.get("format_version") != FORMAT_VERSION or _PAYLOAD not in archive.namelist():
        raise ModelFormatError(
            f"{source}: model file format version {manifest.get('format_version')!r} "
            f"cannot be read (this installation reads version {FORMAT_VERSION})"
        )
    libraries = manifest.get("libraries")
    trained = libraries.get("scikit-learn") if isinstance(libraries, dict) else None
    if trained != sklearn.__version__:
        raise ModelVersionError(
            f"{source}: model was trained with scikit-learn {trained}, this installation has "
            f"{sklearn.__version__}; retrain with `mention-router train`"
        )
    return manifest


def _member(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: the file does not depend on the clock (and routing reads none).
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def _load_payload(archive: zipfile.ZipFile, source: str) -> dict[str, Any]:
    try:
        data = archive.read(_PAYLOAD)
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            found = set(_schema_types(json.loads(inner.read("schema.json"))))
        # skops also names what the schema walk cannot see, such as bound methods; it builds
        # its node tree without importing or constructing anything.
        found.update(sio.get_untrusted_types(data=data))
    except Exception as exc:  # a corrupt payload fails in zipfile, json or skops, many ways
        raise ModelFormatError(f"{source}: the model payload is not a readable skops file") from exc
    untrusted = sorted(found - set(TRUSTED_TYPES))
    if untrusted:
        raise ModelFormatError(
            f"{source}: model file holds untrusted types: {', '.join(untrusted)}"
        )
    try:
        payload = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises many kinds; each means "not a model we can use"
        raise ModelFormatError(f"{source}: model payload cannot be loaded: {exc}") from exc
    return _checked_payload(payload, source)


def _schema_types(node: Any) -> Iterator[str]:
    """Every ``module.Class`` a skops schema names, however deeply nested."""
    if isinstance(node, dict):
        if isinstance(node.get("__module__"), str) and isinstance(node.get("__class__"), str):
            yield f"{node['__module__']}.{node['__class__']}"
        for value in node.values():
            yield from _schema_types(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_types(value)


_PAYLOAD_PARTS: dict[str, type] = {
    "word": TfidfVectorizer,
    "char": TfidfVectorizer,
    "word_terms": str,
    "char_terms": str,
    "heads": dict,
    "data_hash": str,
    "params": str,
}


def _checked_payload(payload: Any, source: str) -> dict[str, Any]:
    # Trusted types can still be assembled into a shape we never write; refuse that too.
    if not isinstance(payload, dict) or set(payload) != set(_PAYLOAD_PARTS):
        raise ModelFormatError(f"{source}: model payload does not have the expected parts")
    for key, kind in _PAYLOAD_PARTS.items():
        if type(payload[key]) is not kind:
            raise ModelFormatError(f"{source}: model payload part {key!r} is not a {kind.__name__}")
    for head, model in payload["heads"].items():
        if type(model) is not LinearSVC:
            raise ModelFormatError(f"{source}: model head {head!r} is not a linear SVM")
    return payload
