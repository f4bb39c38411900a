"""Encoded parts of decision records, remembered per object (the same objects recur)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

# Parts per generation: a mention's records lie some hundreds of records apart (its arrival,
# its last chance), so two generations of this many keep nearly every repeat.
_KEPT = 4096


class Parts:
    """JSON (None fields left out) of recurring frozen models, kept by identity.

    A mention's records carry the same mention and classification objects, and the router
    hands out one object per distinct audit: each is encoded once while it keeps recurring.
    Only the listed classes are encoded here (a subclass may serialize differently when it
    sits in a field declared as its base). Two generations: when the young one is full it
    becomes the old one, so the most recent parts are always kept, at O(1) a part.
    """

    def __init__(self, classes: Iterable[type[BaseModel]]) -> None:
        self._classes = frozenset(classes)
        self._young: dict[int, tuple[BaseModel, bytes]] = {}
        self._old: dict[int, tuple[BaseModel, bytes]] = {}

    def encode(self, model: BaseModel) -> bytes | None:
        """The model's JSON, or None when its class is not one of those listed."""
        key = id(model)
        known = self._young.get(key)
        if known is None:
            known = self._old.get(key)
            if known is not None and known[0] is model:
                self._keep(key, known)
        if known is not None and known[0] is model:  # held here: its id is not reused
            return known[1]
        if type(model) not in self._classes:
            return None
        known = (model, model.__pydantic_serializer__.to_json(model, exclude_none=True))
        self._keep(key, known)
        return known[1]

    def _keep(self, key: int, known: tuple[BaseModel, bytes]) -> None:
        if len(self._young) >= _KEPT:
            self._old, self._young = self._young, {}
        self._young[key] = known
