"""Each kind of mention, indexed once: its need, its SLA and who could ever take it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from routing.eligibility import Need, structural_gap
from routing.models import Classification, Employee, Mention, Taxonomy, Urgency

Kind = tuple[str, str, str]  # platform, language, topic


def kind(need: Need) -> Kind:
    return (need.platform, need.language, need.topic)


class Catalogue:
    """Frozen, recurring facts about kinds of mentions and urgencies, each built once."""

    def __init__(
        self, roster: tuple[Employee, ...], taxonomy: Taxonomy, escalation_lead: float
    ) -> None:
        self.roster = roster
        self.taxonomy = taxonomy
        self.escalation_lead = escalation_lead
        self.gaps: dict[Kind, dict[str, int]] = {}  # why the rest of the roster cannot
        self._candidates: dict[Kind, tuple[Employee, ...]] = {}
        self._candidate_ids: dict[Kind, frozenset[str]] = {}
        self._needs: dict[Kind, Need] = {}
        self._arrivals: dict[Kind, tuple[Need, tuple[Employee, ...]]] = {}
        # Every urgency's SLA and lead, worked out up front (the taxonomy names them all):
        # the plan asks for them per item of every solve, so the question is a dict lookup.
        slas = {u: _sla(taxonomy, u, escalation_lead) for u in taxonomy.urgency}
        self.sla: Callable[[Urgency], tuple[timedelta, timedelta]] = slas.__getitem__
        self._leads = {u: lead for u, (_, lead) in slas.items()}
        weights = {u: taxonomy.weight(u) for u in taxonomy.urgency}
        self.weight: Callable[[Urgency], float] = weights.__getitem__

    def need(self, mention: Mention, classification: Classification) -> Need:
        key = (mention.platform, classification.language, classification.topic)
        need = self._needs.get(key)
        if need is None:  # one frozen Need per kind of mention, built once
            minutes = self.taxonomy.handling_minutes(classification.topic)
            need = self._needs[key] = Need(*key, minutes=minutes)
        return need

    def arrival(
        self, mention: Mention, classification: Classification
    ) -> tuple[Need, tuple[Employee, ...], datetime, datetime]:
        """``need``, ``candidates_for`` it, ``due`` and ``last_chance`` of an arriving mention,
        in one question (asked once per decision)."""
        key = (mention.platform, classification.language, classification.topic)
        known = self._arrivals.get(key)
        if known is None:
            need = self.need(mention, classification)
            known = self._arrivals[key] = (need, self.candidates_for(need))
        sla, lead = self.sla(classification.urgency)
        due = mention.created_at + sla
        return known[0], known[1], due, due - lead

    def due(self, mention: Mention, classification: Classification) -> datetime:
        return mention.created_at + self.sla(classification.urgency)[0]

    def last_chance(self, due_at: datetime, classification: Classification) -> datetime:
        """When a waiting mention's chance ends: its SLA's lead before it is due."""
        return due_at - self._leads[classification.urgency]

    def ids_for(self, need: Need) -> frozenset[str]:
        key = kind(need)
        found = self._candidate_ids.get(key)
        if found is None:
            found = frozenset(e.id for e in self.candidates_for(need))
            self._candidate_ids[key] = found
        return found

    def candidates_for(self, need: Need) -> tuple[Employee, ...]:
        """Everyone who could ever take such a mention, most proficient first (indexed)."""
        key = kind(need)
        found = self._candidates.get(key)
        if found is None:
            gaps = {e.id: structural_gap(e, need) for e in self.roster}
            fits = [e for e in self.roster if gaps[e.id] is None]
            found = tuple(sorted(fits, key=lambda e: (-e.skills[need.topic], e.id)))
            self._candidates[key] = found
            kinds = Counter((gap or "").split(" (")[0] for gap in gaps.values() if gap)
            self.gaps[key] = dict(sorted(kinds.items()))
        return found


def _sla(taxonomy: Taxonomy, urgency: Urgency, lead: float) -> tuple[timedelta, timedelta]:
    """The SLA of an urgency, and the lead before it when a waiting mention's chance ends."""
    sla = taxonomy.sla_minutes(urgency)
    return timedelta(minutes=sla), timedelta(minutes=sla * lead)
