"""The webhook endpoint (FastAPI): generic and Meta page webhooks, acknowledged when durable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from connectors.ingest import Ingestor
from connectors.observer import ConnectorObserver, NullObserver
from connectors.status import ConnectorStatus
from connectors.webhooks import parse_generic, parse_meta, verify_signature, verify_subscription
from routing.errors import PayloadError, QueueError, SignatureError
from routing.models import Mention

__all__ = ["WebhookOptions", "create_app"]

log = logging.getLogger("mention_router.webhooks")


@dataclass(frozen=True)
class WebhookOptions:
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 1000
    secret: str | None = None  # generic format: X-Signature-256 required when set
    meta_app_secret: str | None = None  # Meta endpoint answers only when both are set
    meta_verify_token: str | None = None


class _TooLargeError(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it (or its declared length) passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def create_app(
    ingestor: Ingestor,
    options: WebhookOptions,
    *,
    observer: ConnectorObserver | None = None,
    status: ConnectorStatus | None = None,
) -> FastAPI:
    """The app; a 2xx answer means every mention of the request is durably in the queue."""
    watch = observer if observer is not None else NullObserver()
    app = FastAPI(title="mention-router webhooks", docs_url=None, redoc_url=None)

    async def handle(
        request: Request,
        connector: str,
        check: Callable[[bytes], None],
        parse: Callable[[bytes], list[Mention]],
    ) -> Response:
        try:
            body = await _body(request, options.max_body_bytes)
            check(body)
            mentions = parse(body)
            result = await run_in_threadpool(ingestor.ingest, connector, mentions)
        except _TooLargeError:
            watch.error(connector, "oversized")
            return _error(413, f"body larger than {options.max_body_bytes} bytes")
        except SignatureError as exc:
            watch.error(connector, "unauthorized")
            return _error(401, exc.reason)
        except PayloadError as exc:
            watch.error(connector, "malformed")
            return _error(400, exc.reason)
        except QueueError as exc:
            log.error("%s: queue unavailable: %s", connector, exc)
            watch.error(connector, "queue")
            return _error(503, "the queue is unavailable; send again later")
        return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates})

    @app.post("/webhooks/mentions")
    async def generic(request: Request) -> Response:
        def check(body: bytes) -> None:
            if options.secret is not None:
                header = request.headers.get("x-signature-256")
                verify_signature("webhook", body, header, options.secret, name="X-Signature-256")

        return await handle(
            request, "webhook", check, lambda b: parse_generic(b, max_batch=options.max_batch)
        )

    @app.get("/webhooks/meta")
    async def meta_handshake(request: Request) -> Response:
        if options.meta_verify_token is None:
            return _error(404, "the Meta endpoint is not configured")
        try:
            challenge = verify_subscription(dict(request.query_params), options.meta_verify_token)
        except SignatureError as exc:
            return _error(403, exc.reason)
        return PlainTextResponse(challenge)

    @app.post("/webhooks/meta")
    async def meta(request: Request) -> Response:
        secret = options.meta_app_secret
        if secret is None:
            return _error(404, "the Meta endpoint is not configured")

        def check(body: bytes) -> None:
            header = request.headers.get("x-hub-signature-256")
            verify_signature("meta", body, header, secret, name="X-Hub-Signature-256")

        return await handle(request, "meta", check, parse_meta)

    @app.get("/healthz")
    async def health() -> Response:
        if status is None:
            return JSONResponse({"connectors": {}, "down": []})
        down = status.down()
        body = {"connectors": status.snapshot(), "down": down}
        return JSONResponse(body, status_code=503 if down else 200)

    return app
