"""``mention-router inbox``: build the inbox from the settings and serve it; issue tokens."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from config.settings import Settings
from connectors.notify import WebhookNotifier, WebhookTarget
from connectors.queues import Queue
from routing.errors import ConfigError
from workers import app as composition
from workers.classifying import CorrectionStore
from workers.inbox.app import create_app
from workers.inbox.context import Inbox
from workers.inbox.follower import Follower
from workers.inbox.people import People, load_leads
from workers.inbox.readmodel import InboxModel
from workers.inbox.tokens import TokenStore
from workers.roles import open_ready_queue

log = logging.getLogger("mention_router.inbox")


def load_people(settings: Settings, roster: Path | None = None) -> People:
    roster = roster or settings.routing.roster
    world = composition.load_world(roster, settings.routing.taxonomy)
    return People(world.roster, load_leads(roster))


def build_inbox(settings: Settings, queue: Queue, people: People) -> Inbox:
    return Inbox(
        model=InboxModel(tuple(people.employees.values())),
        people=people,
        tokens=TokenStore(settings.inbox.tokens),
        queue=queue,
        topics=settings.queue.topics,
        corrections=CorrectionStore(settings.classifier.corrections),
        public_url=settings.inbox.public_url,
    )


def build_notifier(settings: Settings) -> WebhookNotifier | None:
    hooks = settings.inbox.webhooks
    if not hooks:
        return None
    targets = [WebhookTarget(h.url.get_secret_value(), h.format, h.employee, h.team) for h in hooks]
    return WebhookNotifier(targets, attempts=settings.inbox.webhook_attempts)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    people = load_people(settings, args.roster)
    queue = open_ready_queue(settings.queue)
    notifier = build_notifier(settings)
    inbox = build_inbox(settings, queue, people)
    follower = Follower(inbox, settings.inbox.group, notifier.notify if notifier else None)
    host = args.host or settings.inbox.host
    port = args.port if args.port is not None else settings.inbox.port
    print(f"inbox at http://{host}:{port}/ (API spec at /openapi.json)", flush=True)
    try:
        uvicorn.run(create_app(inbox, follower), host=host, port=port, log_level="warning")
    finally:
        if notifier is not None:
            notifier.close()
        queue.close()
    return 0


def issue_token(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new token for one person, once; the previous one stops working."""
    people = load_people(settings, args.roster)
    if args.employee_id not in people:
        raise ConfigError(
            str(args.roster or settings.routing.roster),
            "employees",
            f"no employee or lead with id {args.employee_id!r}",
        )
    token = TokenStore(settings.inbox.tokens).issue(args.employee_id)
    print(token)
    return 0


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """``inbox [--host H] [--port N]`` and ``inbox token EMPLOYEE_ID``."""
    inbox = sub.add_parser(
        "inbox", parents=[common], help="serve the inbox: API and web page for employees and leads"
    )
    inbox.add_argument("--host", help="address to bind (default from settings: 127.0.0.1)")
    inbox.add_argument("--port", type=int, help="port (default from settings: 8470; 0: any)")
    inbox.add_argument("--roster", type=Path, help="roster YAML (overrides the configured one)")
    inbox.set_defaults(handler=serve)
    commands = inbox.add_subparsers(dest="inbox_command", metavar="token")
    token = commands.add_parser(
        "token", parents=[common], help="print a new API token for a person (shown once)"
    )
    token.add_argument("employee_id", metavar="EMPLOYEE_ID")
    token.add_argument("--roster", type=Path, help="roster YAML (overrides the configured one)")
    token.set_defaults(handler=issue_token)
