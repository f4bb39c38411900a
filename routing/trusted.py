"""Frozen models built from values that were validated already (the router's hot path)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)

# Defaults shared by every instance must be immutable (pydantic copies the others).
_IMMUTABLE = (type(None), str, int, float, bool, tuple, frozenset)
_TEMPLATES: dict[type[BaseModel], tuple[dict[str, Any], frozenset[str]]] = {}


def trusted(cls: type[M], **values: Any) -> M:
    """``cls(**values)`` without validating again, for values taken from validated models.

    What pydantic's ``model_construct`` does (same fields, defaults and ``model_fields_set``),
    less its per-field loop over aliases, which costs more than validating: the router builds
    an outcome and a decision per mention.
    """
    known = _TEMPLATES.get(cls)
    if known is None:
        known = _TEMPLATES[cls] = _template(cls)
    template, required = known
    given = set(values)  # the fields set; a set against a set is the cheapest subset test
    if not required <= given:
        raise TypeError(f"{cls.__name__} needs {', '.join(sorted(required - given))}")
    model = cls.__new__(cls)
    setattr_ = object.__setattr__
    setattr_(model, "__dict__", {**template, **values})
    setattr_(model, "__pydantic_fields_set__", given)
    setattr_(model, "__pydantic_extra__", None)
    setattr_(model, "__pydantic_private__", None)
    return model


def _template(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    """Every field in order with its default, and the fields that must be given: required
    ones, and those whose default is mutable (pydantic would copy it)."""
    if cls.__pydantic_post_init__ or cls.__pydantic_root_model__ or cls.__private_attributes__:
        raise TypeError(f"{cls.__name__} needs pydantic's own construction")
    template, required = {}, set()
    for name, field in cls.model_fields.items():
        if field.alias not in (None, name) or field.validation_alias not in (None, name):
            raise TypeError(f"{cls.__name__}.{name} has an alias: use pydantic's construction")
        template[name] = field.default
        if field.default is PydanticUndefined or not isinstance(field.default, _IMMUTABLE):
            required.add(name)
    return template, frozenset(required)
