"""``TweepySource``: the X connector's lifecycle, reconnects, rate limits and clean stop."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import tweepy
from pydantic import SecretStr

from connectors.ingest import Ingestor
from connectors.listening import ListeningRules, RuleMatcher
from connectors.observer import ConnectorObserver, NullObserver
from connectors.retry import Backoff, rate_limit_delay
from connectors.x.cursor import Cursor
from connectors.x.errors import error_kind, translate
from connectors.x.feeds import XFeeds
from connectors.x.lines import KeepAlive, Notice, TweetLine, parse_stream_line
from connectors.x.query import plan_rules, stream_rules
from connectors.x.stream import StreamConnection
from connectors.x.transport import redact_tweepy_logs
from connectors.x.tweets import CONNECTOR
from routing.errors import MentionRouterError, PayloadError, RateLimitedError

__all__ = ["TweepySource", "XOptions"]

log = logging.getLogger("mention_router.x")

SessionHook = Callable[[requests.Session], None]


@dataclass(frozen=True)
class XOptions:
    bearer_token: SecretStr
    stream: bool = True
    user_id: str | None = None
    mentions_poll_seconds: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 320.0
    max_catch_up_pages: int = 10


class TweepySource:
    """Listens on X: filtered stream with catch-up, and the brand account's mentions timeline.

    ``start`` runs each feed on its own thread; a failure marks the connector down, waits
    (until the rate limit resets, or an exponential back-off with jitter) and tries again,
    for as long as the source runs. ``sleep`` and ``clock`` are injectable for tests.
    """

    name = CONNECTOR

    def __init__(
        self,
        options: XOptions,
        rules: ListeningRules,
        ingestor: Ingestor,
        cursor: Cursor,
        *,
        observer: ConnectorObserver | None = None,
        prepare_session: SessionHook | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        rules_source: str = "listening rules",
    ) -> None:
        redact_tweepy_logs()
        self.options = options
        self._queries = stream_rules(rules, rules_source)
        self._observer = observer if observer is not None else NullObserver()
        self._prepare = prepare_session
        self._stopped = threading.Event()
        self._sleep = sleep if sleep is not None else self._stopped.wait
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._stream: StreamConnection | None = None
        self._threads: list[threading.Thread] = []
        self._rules_synced = False
        client = tweepy.Client(options.bearer_token.get_secret_value(), return_type=dict)
        if prepare_session is not None:
            prepare_session(client.session)
        self.feeds = XFeeds(
            client, RuleMatcher(rules), ingestor, cursor, self._observer,
            max_pages=options.max_catch_up_pages,
        )  # fmt: skip

    def start(self) -> None:
        loops = [self.run_stream] if self.options.stream else []
        loops += [self.run_mentions] if self.options.user_id else []
        for loop in loops:
            thread = threading.Thread(target=loop, name=f"x-{loop.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.stop()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def run_stream(self) -> None:
        """Stream until stopped: sync rules, connect, catch up, read; on failure wait, retry."""
        backoff = self._backoff()
        while not self.stopped:
            failure = self.stream_once(backoff)
            if failure is None or self.stopped:
                continue
            self._failed(failure)
            self._sleep(self._delay(failure, backoff))

    def stream_once(self, backoff: Backoff | None = None) -> MentionRouterError | None:
        """One connection, to its end: the failure that ended it (None: stopped)."""
        try:
            if not self._rules_synced:
                self.sync_rules()
            stream = StreamConnection(
                self.options.bearer_token.get_secret_value(),
                on_line=self.on_line,
                on_connected=lambda: self._connected(backoff),
                prepare_session=self._prepare,
            )
            self._stream = stream
            if self.stopped:
                return None
            return stream.connect()
        except (tweepy.TweepyException, requests.RequestException) as exc:
            return translate(exc)
        except MentionRouterError as exc:
            return exc

    def sync_rules(self) -> None:
        """Make the stream's rules (those tagged by us) those of the listening rules."""
        rules_client = StreamConnection(
            self.options.bearer_token.get_secret_value(),
            on_line=lambda _: None,
            on_connected=lambda: None,
            prepare_session=self._prepare,
        )
        existing = rules_client.get_rules().get("data") or []
        plan = plan_rules(existing, self._queries)
        if plan.delete:
            rules_client.delete_rules(list(plan.delete))
        if plan.add:
            rules_client.add_rules([tweepy.StreamRule(value=v, tag=t) for v, t in plan.add])
        log.info("x: stream rules synced (%d added, %d deleted)", len(plan.add), len(plan.delete))
        self._rules_synced = True

    def on_line(self, raw: bytes) -> None:
        """Handle one stream line; a bad one is counted and skipped, never fatal."""
        try:
            event = parse_stream_line(raw)
        except PayloadError as exc:
            log.warning("x: stream line refused: %s", exc.reason)
            self._observer.error(CONNECTOR, "malformed")
            return
        if isinstance(event, KeepAlive):
            return
        if isinstance(event, Notice):
            log.info("x: stream notice: %s", event.reason)
            return
        assert isinstance(event, TweetLine)
        self.feeds.advance("stream", self.feeds.deliver([event.mention]))

    def run_mentions(self) -> None:
        """Poll the mentions timeline until stopped."""
        assert self.options.user_id is not None
        backoff = self._backoff()
        while not self.stopped:
            try:
                self.feeds.poll_mentions(self.options.user_id)
                backoff.reset()
                delay = self.options.mentions_poll_seconds
                if not self.options.stream:
                    self._observer.state(CONNECTOR, True)
            except (tweepy.TweepyException, requests.RequestException, MentionRouterError) as exc:
                failure = exc if isinstance(exc, MentionRouterError) else translate(exc)
                self._failed(failure, report_state=not self.options.stream)
                delay = self._delay(failure, backoff)
            self._sleep(delay)

    def _connected(self, backoff: Backoff | None) -> None:
        self.feeds.catch_up(self._queries)
        if backoff is not None:
            backoff.reset()
        self._observer.state(CONNECTOR, True)

    def _failed(self, failure: MentionRouterError, *, report_state: bool = True) -> None:
        log.warning("%s", failure)
        self._observer.error(CONNECTOR, error_kind(failure))
        if report_state:
            self._observer.state(CONNECTOR, False)

    def _delay(self, failure: MentionRouterError, backoff: Backoff) -> float:
        fallback = backoff.next_delay()
        if isinstance(failure, RateLimitedError):
            return rate_limit_delay(failure.reset_at, self._clock(), fallback)
        return fallback

    def _backoff(self) -> Backoff:
        return Backoff(self.options.backoff_initial, self.options.backoff_max, self._rng)
