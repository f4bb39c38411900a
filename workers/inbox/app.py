"""The inbox's ASGI app: the JSON API under /api, the web page at /, OpenAPI at /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from workers.inbox.api import api
from workers.inbox.context import Inbox
from workers.inbox.follower import Follower

STATIC = Path(__file__).resolve().parent / "static"
# The page loads only its own script and styles; nothing inline, nothing from elsewhere.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Health(BaseModel):
    caught_up: bool
    version: int


def create_app(inbox: Inbox, follower: Follower | None = None) -> FastAPI:
    """The app over ``inbox``; a ``follower`` given is started and stopped with it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if follower is not None:
            follower.start()
        try:
            yield
        finally:
            if follower is not None:
                follower.stop()

    app = FastAPI(
        title="mention-router inbox",
        version="1",
        description="Assignments for employees, coverage for team leads.",
        docs_url=None,  # the Swagger page loads its assets from a CDN; the spec is enough
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.inbox = inbox
    app.include_router(api)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(_HEADERS)
        return response

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        return Health(caught_up=inbox.caught_up, version=inbox.model.version)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
