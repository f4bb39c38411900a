"""A local HTTP server that answers like the X API v2, and the adapter that sends tweepy to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter

API_HOSTS = ("https://api.twitter.com", "https://api.x.com")
KEEP_ALIVE = b"\r\n"
_HOLD_SECONDS = 20.0  # an unscripted stream connection stays open this long at most


def tweet(tweet_id: int, text: str = "@contoso my bill is wrong", **extra: Any) -> dict[str, Any]:
    """A tweet object as X returns it with our tweet fields."""
    return {
        "id": str(tweet_id),
        "text": text,
        "author_id": f"u{tweet_id % 7}",
        "created_at": "2026-03-02T09:14:05.000Z",
        "conversation_id": str(tweet_id),
        "lang": "en",
        **extra,
    }


def user(user_id: str, followers: int = 120) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": f"user_{user_id}",
        "name": "A Customer",
        "public_metrics": {"followers_count": followers},
    }


def stream_line(t: dict[str, Any], tag: str = "mention-router:contoso") -> bytes:
    payload = {
        "data": t,
        "includes": {"users": [user(t["author_id"])]},
        "matching_rules": [{"id": "1", "tag": tag}],
    }
    return json.dumps(payload).encode()


@dataclass
class Reply:
    """A scripted answer: a status, headers and a JSON body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeXApi:
    """What the fake platform holds, and the scripts tests give its endpoints.

    ``streams`` is one script per stream connection: a ``Reply`` (refused), or a list of
    lines, possibly ending with ``"drop"`` (the connection is cut mid-stream) or ``"end"``
    (closed cleanly); lines are sent as chunks with a keep-alive between them. After its
    lines (or without a script) the connection stays open, sending keep-alives, until the
    client leaves or the server closes.
    """

    posted: list[dict[str, Any]] = field(default_factory=list)  # what search finds
    mentions: list[dict[str, Any]] = field(default_factory=list)  # the mentions timeline
    rules: dict[str, dict[str, str]] = field(default_factory=dict)
    streams: list[Reply | list[bytes | str]] = field(default_factory=list)
    replies: dict[str, list[Reply]] = field(default_factory=dict)  # path prefix -> one-shots
    page_size: int = 2
    keep_alive_seconds: float = 0.05  # X sends one every 20 s
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0
    closing: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    _next_rule: int = 100

    def add_rule(self, value: str, tag: str) -> str:
        with self.lock:
            self._next_rule += 1
            rule_id = str(self._next_rule)
            self.rules[rule_id] = {"id": rule_id, "value": value, "tag": tag}
        return rule_id

    def one_shot(self, path: str) -> Reply | None:
        with self.lock:
            queue = next((q for p, q in self.replies.items() if path.startswith(p) and q), None)
            return queue.pop(0) if queue else None


def _page(tweets: list[dict[str, Any]], query: dict[str, str], size: int) -> dict[str, Any]:
    """Newest first, after ``since_id``, ``size`` per page; the token is the offset."""
    since = int(query.get("since_id", "0"))
    found = sorted((t for t in tweets if int(t["id"]) > since), key=lambda t: -int(t["id"]))
    start = int(query.get("next_token") or query.get("pagination_token") or 0)
    chunk = found[start : start + size]
    if not chunk:
        return {"meta": {"result_count": 0}}
    users = [user(uid) for uid in sorted({t["author_id"] for t in chunk})]
    meta: dict[str, Any] = {"result_count": len(chunk), "newest_id": chunk[0]["id"]}
    if start + size < len(found):
        meta["next_token"] = str(start + size)
    return {"data": chunk, "includes": {"users": users}, "meta": meta}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: FakeXApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path, query = self._query()
        self.api.requests.append(("GET", path, query))
        reply = self.api.one_shot(path)
        if reply is not None and path != "/2/tweets/search/stream":
            self._json(reply.status, reply.body, reply.headers)
        elif path == "/2/tweets/search/recent":
            self._json(200, _page(self.api.posted, query, self.api.page_size))
        elif path.startswith("/2/users/") and path.endswith("/mentions"):
            self._json(200, _page(self.api.mentions, query, self.api.page_size))
        elif path == "/2/tweets/search/stream/rules":
            rules = list(self.api.rules.values())
            self._json(
                200,
                {"data": rules, "meta": {"result_count": len(rules)}}
                if rules
                else {"meta": {"result_count": 0}},
            )
        elif path == "/2/tweets/search/stream":
            self._stream()
        else:
            self._json(404, {"title": "Not Found Error", "detail": path})

    def do_POST(self) -> None:
        path, query = self._query()
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.api.requests.append(("POST", path, {"body": json.dumps(body), **query}))
        if path != "/2/tweets/search/stream/rules":
            self._json(404, {"title": "Not Found Error"})
            return
        if "delete" in body:
            with self.api.lock:
                for rule_id in body["delete"]["ids"]:
                    self.api.rules.pop(rule_id, None)
            self._json(200, {"meta": {"summary": {"deleted": len(body["delete"]["ids"])}}})
            return
        added = [self.api.add_rule(r["value"], r.get("tag", "")) for r in body.get("add", [])]
        self._json(201, {"data": [self.api.rules[i] for i in added], "meta": {}})

    def _stream(self) -> None:
        with self.api.lock:
            self.api.connections += 1
            script = self.api.streams.pop(0) if self.api.streams else None
        if isinstance(script, Reply):
            self._json(script.status, script.body, script.headers)
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):
            self._lines(script)
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _hold(self) -> None:
        deadline = time.monotonic() + _HOLD_SECONDS
        while time.monotonic() < deadline and not self.api.closing.wait(
            self.api.keep_alive_seconds
        ):
            self._chunk(KEEP_ALIVE)
        self.wfile.write(b"0\r\n\r\n")

    def _lines(self, script: list[bytes | str] | None) -> None:
        for item in script or []:
            if item == "drop":
                return  # no terminating chunk: the client sees a broken stream
            if item == "end":
                self.wfile.write(b"0\r\n\r\n")
                return
            assert isinstance(item, bytes)
            self._chunk(KEEP_ALIVE)
            self._chunk(item + b"\r\n")
        self._hold()


class ForwardingAdapter(HTTPAdapter):
    """Mounted on a session for the API hosts: sends each request to the local server."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        for host in API_HOSTS:
            if url.startswith(host):
                request.url = self.base_url + url[len(host) :]
        return super().send(request, *args, **kwargs)


def redirect(api: FakeXApi) -> Callable[[requests.Session], None]:
    """A session hook that mounts the forwarding adapter for every API host."""

    def mount(session: requests.Session) -> None:
        for host in API_HOSTS:
            session.mount(host + "/", ForwardingAdapter(api.url))

    return mount


@contextmanager
def running_api(api: FakeXApi | None = None) -> Iterator[FakeXApi]:
    """The fake API on a free port of 127.0.0.1, for the ``with`` block."""
    api = api if api is not None else FakeXApi()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
