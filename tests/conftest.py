"""Shared fixtures."""

from __future__ import annotations

import pytest

from routing.models import Taxonomy
from tests.factories import make_taxonomy


@pytest.fixture
def taxonomy() -> Taxonomy:
    return make_taxonomy()
