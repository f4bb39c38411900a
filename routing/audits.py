"""Audit records of routing decisions: who was considered, who was ruled out and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from routing.catalogue import Kind, kind
from routing.decisions import Audit, Candidate
from routing.eligibility import DutyRoster, Need, availability_gap
from routing.ledger import BudgetLedger
from routing.models import Employee

_AUDITED_KEPT = 50_000


class AuditBook:
    """Builds audits; they are frozen and recur, so each record and reason is built once."""

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
        self._reasons: dict[tuple[int, int], tuple[Audit, str]] = {}

    def audit(
        self,
        need: Need,
        weight: float,
        now: datetime,
        candidates: Sequence[Employee],
        chosen: Employee | None,
        note: str,
    ) -> Audit:
        limit = self.limit
        considered = []
        for employee in candidates[:limit]:
            value = round(employee.skills[need.topic] * weight, 6)
            gap = availability_gap(employee, need, self.ledger, now, self.duty)
            considered.append(self._candidate(employee.id, value, gap))
        key = (
            tuple(considered),
            max(0, len(candidates) - limit),
            kind(need),
            chosen.id if chosen is not None else None,
            note,
        )
        audit = self._audits.get(key)
        if audit is None:  # frozen and recurring, like the candidates: built once
            if len(self._audits) >= _AUDITED_KEPT:
                self._audits.clear()
            audit = self._audits[key] = Audit(
                policy=self.policy,
                considered=key[0],
                more_considered=key[1],
                not_considered=self.gaps[key[2]],
                chosen=key[3],
                note=note,
            )
        return audit

    def _candidate(self, employee_id: str, value: float, gap: str | None) -> Candidate:
        """Audit records are frozen and recur (same person, value and reason): build each once."""
        key = (employee_id, value, gap)
        found = self._audited.get(key)
        if found is None:
            if len(self._audited) >= _AUDITED_KEPT:
                self._audited.clear()
            found = self._audited[key] = Candidate(
                employee_id=employee_id, value=value, ruled_out=gap
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
