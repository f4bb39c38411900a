"""The inbox served by uvicorn on a free 127.0.0.1 port, with a router thread behind it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from tests.factories import free_port
from tests.inbox_world import World
from workers.inbox import create_app


@dataclass
class Served:
    world: World
    url: str


@contextmanager
def serving(world: World, *, router: bool = True) -> Iterator[Served]:
    """Serve the world's inbox (its follower in the app's lifespan) and run its router."""
    app = create_app(world.inbox, world.follower)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    stop = threading.Event()

    def route() -> None:
        while not stop.is_set():
            if not world.stage.step(500):
                stop.wait(0.05)

    threads = [threading.Thread(target=server.run, daemon=True)]
    if router:
        threads.append(threading.Thread(target=route, daemon=True))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(world, f"http://127.0.0.1:{port}")
    finally:
        stop.set()
        server.should_exit = True
        for thread in threads:
            thread.join(timeout=10)
