"""The composition root: turn settings and command-line overrides into concrete objects."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

import config
from config.loader import load_roster, load_taxonomy
from config.settings import ClassifierSettings, Settings
from connectors.queues import Queue, open_queue
from routing.models import Employee, Taxonomy
from routing.router import Router, RouterOptions
from routing.tagger import Tagger
from workers.classifying import load_policy
from workers.metrics import Metrics
from workers.modelfile import load_model

DEMO_DIR = Path(config.__file__).resolve().parent / "demo"
DEMO_ROSTER = Path(config.__file__).resolve().parent / "roster.yaml"
DEMO_TAXONOMY = Path(config.__file__).resolve().parent / "taxonomy.yaml"


@dataclass(frozen=True)
class World:
    """What the router decides over: the taxonomy and the roster."""

    taxonomy: Taxonomy
    roster: tuple[Employee, ...]


def load_world(roster: Path, taxonomy: Path) -> World:
    tax = load_taxonomy(taxonomy)
    return World(tax, load_roster(roster, tax))


def router_options(settings: Settings, *, policy: str | None = None) -> RouterOptions:
    routing = settings.routing
    return RouterOptions(
        policy=policy or routing.policy,
        escalation_lead=routing.escalation_lead,
        escalation_targets=dict(routing.escalation_targets),
        stickiness_minutes=routing.stickiness_minutes,
        accept_timeout_minutes=routing.accept_timeout_minutes,
        max_declines=routing.max_declines,
        plan_hold_minutes=routing.plan_hold_minutes,
    )


def build_router(world: World, options: RouterOptions | None = None) -> Router:
    return Router(world.roster, world.taxonomy, options)


def build_tagger(
    model: Path | None,
    world: World,
    *,
    use_labels: bool = False,
    classifier: ClassifierSettings | None = None,
) -> Tagger:
    """The tagger with the configured urgency policy; routing on labels alone needs no model."""
    options = classifier if classifier is not None else ClassifierSettings()
    policy = load_policy(options.urgency_policy)
    threshold = options.unknown_threshold
    if model is None or (use_labels and not model.exists()):
        return Tagger(
            None, world.taxonomy, use_labels=True, policy=policy, unknown_threshold=threshold
        )
    return Tagger(
        load_model(model),
        world.taxonomy,
        use_labels=use_labels,
        policy=policy,
        unknown_threshold=threshold,
    )


def build_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    return Metrics(registry if registry is not None else CollectorRegistry())


def embedded_queue(path: Path) -> Queue:
    return open_queue(f"embedded:{path}")


def progress_printer(label: str, every: float = 0.5) -> Callable[[int], None] | None:
    """A progress line on an interactive terminal; nothing in logs and CI."""
    if not sys.stderr.isatty():
        return None
    started = time.perf_counter()
    last = [0.0]

    def show(count: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= every:
            last[0] = now
            rate = count / max(now - started, 1e-9)
            sys.stderr.write(f"\r{label}: {count:,} ({rate:,.0f}/s)")
            sys.stderr.flush()

    return show


def end_progress(show: Callable[[int], None] | None) -> None:
    if show is not None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
