"""Audit records of routing decisions: who was considered, who was ruled out and why."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from routing.catalogue import Kind, kind
from routing.decisions import Audit, Candidate
from routing.eligibility import OFF_DUTY, DutyRoster, Need, budget_gap
from routing.ledger import EPSILON, BudgetLedger
from routing.models import Employee
from routing.trusted import trusted

_AUDITED_KEPT = 50_000
_SEEN_KEPT = 64  # audits kept per set of gaps (notes such as bids vary without end)
# Who an audit looks at: (employee id, value) each, how many more candidates, the kind.
_Head = tuple[tuple[tuple[str, float], ...], int, Kind]


class AuditBook:
    """Builds audits; they are frozen and recur, so each record and reason is built once.

    An audit is found by what it depends on (who was looked at, with their values, and why
    each was unavailable): the records themselves are built only the first time.
    """

    def __init__(
        self,
        policy: str,
        limit: int,
        ledger: BudgetLedger,
        duty: DutyRoster,
        gaps: Mapping[Kind, Mapping[str, int]],
    ) -> None:
        self.policy = policy
        self.limit = limit
        self.ledger = ledger
        self.duty = duty
        self.gaps = gaps
        self._audited: dict[tuple[str, float, str | None], Candidate] = {}
        self._audits: dict[tuple[Any, ...], Audit] = {}
        self._short: dict[tuple[float, float], str] = {}  # budget left, minutes: the reason
        self._heads: dict[tuple[int, float, str], tuple[Any, _Head, Sequence[Employee]]] = {}
        self._reasons: dict[tuple[int, int], tuple[Audit, str]] = {}
        # Per head and minutes: (the head, the ledger's changes, valid from, until, the gaps
        # of those it looks at, the audits found with those gaps by choice and note).
        self._kept: dict[tuple[int, float], tuple[Any, int, float, float, Any, Any]] = {}

    def audit(
        self,
        need: Need,
        weight: float,
        now: datetime,
        candidates: Sequence[Employee],
        chosen: Employee | None,
        note: str,
    ) -> Audit:
        known = self._heads.get((id(candidates), weight, need.topic))  # ``_head``, inlined
        if known is not None and known[0] is candidates:
            head, looked_at = known[1], known[2]
        else:
            head, looked_at = self._head(need, weight, candidates)
        gaps, seen = self._gaps(head, looked_at, need.minutes, now, isinstance(candidates, tuple))
        chosen_id = chosen.id if chosen is not None else None
        audit = seen.get((chosen_id, note))  # the same gaps as last time: no hashing them
        if audit is not None:
            return audit
        key = (head, gaps, chosen_id, note)
        audit = self._audits.get(key)
        if audit is None:  # frozen and recurring, like the candidates: built once
            if len(self._audits) >= _AUDITED_KEPT:
                self._audits.clear()
            audit = self._audits[key] = self._build(head, gaps, chosen_id, note)
        if len(seen) < _SEEN_KEPT:
            seen[(chosen_id, note)] = audit
        return audit

    def _gaps(
        self,
        head: _Head,
        looked_at: Sequence[Employee],
        minutes: float,
        now: datetime,
        kept: bool,
    ) -> tuple[tuple[str | None, ...], dict[tuple[str | None, str], Audit]]:
        """``availability_gap`` of each of ``looked_at``, kept (when ``kept``: ``head`` and
        ``looked_at`` are indexed) until one of them starts or ends a shift or a budget day,
        or their books change; with the audits of ``head`` found for these gaps so far, by
        choice and note."""
        ledger = self.ledger
        ts = ledger.timestamp(now)
        key = (id(head), minutes)
        known = self._kept.get(key) if kept else None
        if known is not None and known[0] is head and known[2] <= ts < known[3]:
            if known[1] == ledger.changes:
                return known[4], known[5]
            if not ledger.changed_since(looked_at, known[1]):
                self._kept[key] = (head, ledger.changes, *known[2:])
                return known[4], known[5]
        gaps, since, until = self._gaps_now(looked_at, minutes, now)
        seen: dict[tuple[str | None, str], Audit] = {}
        if kept:
            if len(self._kept) >= _AUDITED_KEPT:
                self._kept.clear()
            self._kept[key] = (head, ledger.changes, since, until, gaps, seen)
        return gaps, seen

    def _gaps_now(
        self, looked_at: Sequence[Employee], minutes: float, now: datetime
    ) -> tuple[tuple[str | None, ...], float, float]:
        """``availability_gap`` of each (reasons remembered: they recur), and POSIX bounds
        within which they hold unless someone's books change."""
        steady, standing = self.duty.steady, self.ledger.standing
        gaps: list[str | None] = []
        since, until = -math.inf, math.inf
        for employee in looked_at:
            on, start, end = steady(employee, now)
            since, until = max(since, start), min(until, end)
            if not on:
                gaps.append(OFF_DUTY)
                continue
            left, start, end = standing(employee.id, now)
            since, until = max(since, start), min(until, end)
            if left + EPSILON >= minutes:  # ``ledger.can_spend``
                gaps.append(None)
                continue
            gap = self._short.get((left, minutes))
            if gap is None:
                if len(self._short) >= _AUDITED_KEPT:
                    self._short.clear()
                gap = self._short[(left, minutes)] = budget_gap(left, minutes)
            gaps.append(gap)
        return tuple(gaps), since, until

    def _head(
        self, need: Need, weight: float, candidates: Sequence[Employee]
    ) -> tuple[_Head, Sequence[Employee]]:
        """Who an audit looks at and their values: fixed per candidate list and weight."""
        key = (id(candidates), weight, need.topic)
        known = self._heads.get(key)
        if known is not None and known[0] is candidates:
            return known[1], known[2]
        looked_at = tuple(candidates[: self.limit])
        values = tuple((e.id, round(e.skills[need.topic] * weight, 6)) for e in looked_at)
        head = (values, max(0, len(candidates) - self.limit), kind(need))
        if isinstance(candidates, tuple):  # the catalogue's lists live as long as the router
            if len(self._heads) >= _AUDITED_KEPT:
                self._heads.clear()
            self._heads[key] = (candidates, head, looked_at)
        return head, looked_at

    def _build(
        self, head: _Head, gaps: tuple[str | None, ...], chosen: str | None, note: str
    ) -> Audit:
        values, more, of_kind = head
        known, considered = self._audited, []
        for (employee_id, value), gap in zip(values, gaps, strict=True):
            found = known.get((employee_id, value, gap))  # ``_candidate``, inlined
            if found is None:
                found = self._candidate(employee_id, value, gap)
            considered.append(found)
        return trusted(  # its parts are built here from validated data
            Audit,
            policy=self.policy,
            considered=tuple(considered),
            more_considered=more,
            not_considered=dict(self.gaps[of_kind]),
            chosen=chosen,
            note=note,
        )

    def _candidate(self, employee_id: str, value: float, gap: str | None) -> Candidate:
        """Audit records are frozen and recur (same person, value and reason): build each once."""
        key = (employee_id, value, gap)
        found = self._audited.get(key)
        if found is None:
            if len(self._audited) >= _AUDITED_KEPT:
                self._audited.clear()
            found = self._audited[key] = trusted(
                Candidate, employee_id=employee_id, value=value, ruled_out=gap
            )
        return found

    def backlog_reason(self, audit: Audit, candidates: int) -> str:
        """Why nobody took it, from the audit (audits recur, and so do their reasons)."""
        known = self._reasons.get((id(audit), candidates))
        if known is not None and known[0] is audit:
            return known[1]
        ruled_out: dict[str, int] = {}  # not a Counter: its isinstance check is slow here
        for considered in audit.considered:
            if considered.ruled_out:
                cause = considered.ruled_out.split(" (")[0]
                ruled_out[cause] = ruled_out.get(cause, 0) + 1
        why = summarize(ruled_out) if ruled_out else audit.note
        reason = f"none of {candidates} candidates taken now: {why}"
        if len(self._reasons) >= _AUDITED_KEPT:
            self._reasons.clear()
        self._reasons[(id(audit), candidates)] = (audit, reason)
        return reason


def summarize(counts: Mapping[str, int]) -> str:
    """``"3 outside working hours; 2 not enough budget left"``: counts per kind of reason."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{n} {why}" for why, n in ranked if why]
    return "; ".join(parts) if parts else "roster is empty"
