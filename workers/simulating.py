"""The ``simulate`` and ``explain`` commands: routing measured alone, and why it chose."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from config.settings import Settings
from connectors.files import OutcomeFile, read_stream
from connectors.queues import open_queue
from routing.errors import ConfigError, MentionRouterError
from routing.models import Classification, Mention
from routing.optimal import optimal
from routing.policies import POLICIES
from routing.simulator import Report, final_outcomes, simulate
from workers import app
from workers.decisionlog import decisions_in

SIMULATE_POLICIES = (*POLICIES, "optimal")


def _items(
    args: argparse.Namespace, settings: Settings, world: app.World, model: Path | None
) -> tuple[list[tuple[Mention, Classification]], int]:
    mentions: list[Mention] = []
    malformed = 0
    for line in read_stream(args.stream):
        if isinstance(line.result, Mention):
            mentions.append(line.result)
        else:
            malformed += 1
    tagger = app.build_tagger(
        model, world, use_labels=args.use_labels, classifier=settings.classifier
    )
    classifications = []
    for start in range(0, len(mentions), 1024):
        classifications += tagger.tag(mentions[start : start + 1024])
    return list(zip(mentions, classifications, strict=True)), malformed


def simulate_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.policy not in SIMULATE_POLICIES:
        raise ConfigError("--policy", "policy", f"choose one of {', '.join(SIMULATE_POLICIES)}")
    world = app.load_world(
        args.roster or settings.routing.roster, args.taxonomy or settings.routing.taxonomy
    )
    model = (
        None if args.use_labels and args.model is None else args.model or settings.classifier.model
    )
    items, malformed = _items(args, settings, world, model)
    if args.policy == "optimal":
        outcomes = optimal(items, world.roster, world.taxonomy).outcomes
        written = outcomes
    else:
        options = app.router_options(settings, policy=args.policy)
        decisions = simulate(items, world.roster, world.taxonomy, options)
        written = [d.outcome for d in decisions if d.outcome is not None]
        outcomes = list(final_outcomes(decisions).values())
    report = Report.of(outcomes, world.roster, args.policy, world.taxonomy).data | {
        "malformed": malformed
    }
    if args.out is not None:
        with OutcomeFile.open(args.out) as out:
            out.write_many(written)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    _print(report)
    return 0


def _print(report: dict[str, object]) -> None:
    print(f"policy {report['policy']}: {report['mentions']} mentions, {report['assigned']} "
          f"assigned, {report['backlogged']} backlogged, {report['escalated']} escalated, "
          f"{report['rejected']} rejected")  # fmt: skip
    print(f"total value {report['total_value']}, budget overruns {report['budget_overruns']}, "
          f"fairness (Gini of budget use) {report['fairness_gini']}")  # fmt: skip
    print(f"SLA attainment: {report['sla_attainment']}")


def explain_command(args: argparse.Namespace, settings: Settings) -> int:
    url = f"embedded:{args.state / 'queue.db'}" if args.state else settings.queue.url
    queue = open_queue(url)
    try:
        found = [
            d for d in decisions_in(queue, settings.queue.topics.decisions)
            if d.mention_id == args.mention_id
        ]  # fmt: skip
    finally:
        queue.close()
    if not found:
        raise MentionRouterError(f"no decision about {args.mention_id!r} in {url}")
    for decision in found:
        data = decision.model_dump(mode="json", exclude={"mention", "classification"})
        if args.json:
            print(json.dumps(data, sort_keys=True))
        else:
            print(_describe(data))
    last = next((d.outcome for d in reversed(found) if d.outcome is not None), None)
    if not args.json and last is not None and last.status == "backlogged":
        # Waiting is not a decision: later offers that left it waiting wrote no record.
        print(
            f"still waiting at the last decision logged: due {last.due_at.isoformat()}; it is "
            "offered again when someone's time frees up (with the adaptive policy, also at "
            "each plan), and escalated at its last chance if nobody takes it"
        )
    return 0


def _describe(data: dict[str, object]) -> str:
    lines = []
    outcome = data.get("outcome")
    feedback = data.get("feedback")
    if isinstance(outcome, dict):
        who = outcome.get("employee_id") or outcome.get("reason")
        when = outcome.get("assigned_at") or outcome.get("decided_at")
        lines.append(f"{when}  {outcome['status']}: {who}")
    if isinstance(feedback, dict):
        lines.append(f"{feedback['at']}  {feedback['kind']} by {feedback['employee_id']} "
                     f"{feedback.get('reason') or ''}".rstrip())  # fmt: skip
    audit = data.get("audit")
    if isinstance(audit, dict):
        lines.append(f"  policy {audit['policy']}: {audit['note']}")
        for c in audit["considered"]:
            state = c["ruled_out"] or "available"
            lines.append(f"    {c['employee_id']:<16} value {c['value']:<8g} {state}")
        if audit["more_considered"]:
            lines.append(f"    ... and {audit['more_considered']} more candidates")
        for why, n in audit["not_considered"].items():
            lines.append(f"    not considered: {n} {why}")
    return "\n".join(lines)
