"""Property-based fuzzing of the inbox API from its served OpenAPI spec: no input gives a 5xx."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.queues import MemoryQueue
from tests.inbox_world import World, build_world, mention
from workers.inbox import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import schemathesis
    from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.slow
KNOWN = ["m0", "m1", "m2", "es"]  # done, open (anna's), open (anna's), escalated


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> World:
    """An inbox with open, done and escalated mentions for the fuzzer to find."""
    world = build_world(MemoryQueue(), Path(tmp_path_factory.mktemp("fuzz")))
    for i in range(3):
        world.publish(mention(f"m{i}", text="<script>x</script> ü 🙂"))
    world.publish(mention("es"), lang="es")
    world.settle()
    world.inbox.act("done", "m0", "anna", "anna", minutes=3)
    world.settle()
    return world


def test_no_request_makes_the_inbox_fail(fuzzed: World) -> None:
    # Given the spec the inbox serves
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzzed.inbox))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    # When hypothesis generates requests for every operation, each sent as nobody, an
    # employee and the leads of both teams, then no answer is a server error
    for operation in operations:

        @given(case=operation.as_strategy(), known=st.sampled_from([None, *KNOWN]))
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def no_server_error(case: Any, known: str | None) -> None:
            if known is not None and "mention_id" in (case.path_parameters or {}):
                case.path_parameters["mention_id"] = known  # reach past the 404s too
            for who in (None, "anna", "lena", "tara"):
                headers = fuzzed.headers(who) if who is not None else {}
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()
