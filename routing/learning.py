"""What each arriving mention could have earned from whom, told to the price learner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routing.catalogue import Catalogue, Kind, kind
from routing.eligibility import DutyRoster, Need
from routing.models import Classification, Employee, Mention, Urgency
from routing.prices import Arrival, PriceBook

_LEARN_OPTIONS = 16  # who the price learner sees competing for a mention, best first


class PriceTutor:
    """Feeds the price book one ``Arrival`` per mention (only the adaptive policy learns)."""

    def __init__(self, prices: PriceBook, catalogue: Catalogue, enabled: bool) -> None:
        self.prices = prices
        self.catalogue = catalogue
        self.enabled = enabled
        self._duty = DutyRoster()  # asked about arrival times, not the clock
        self._options: dict[tuple[Kind, Urgency], tuple[Any, Any]] = {}

    def learn(
        self,
        mention: Mention,
        classification: Classification,
        need: Need,
        candidates: Sequence[Employee],
    ) -> None:
        """Tell the price learner what this mention could have earned from whom."""
        if not self.enabled or not candidates:
            return
        weight, topic = self.catalogue.taxonomy.weight(classification.urgency), need.topic
        sla, lead = self.catalogue.sla(classification.urgency)
        # only who could be at work before its last chance competes for it
        reachable = self._duty.reachable(
            candidates, mention.created_at, (sla - lead).total_seconds(), _LEARN_OPTIONS
        )
        known = self._options.get((kind(need), classification.urgency))
        if known is not None and known[0] is reachable:
            options = known[1]
        else:
            options = tuple((e.id, e.skills[topic] * weight) for e in reachable)
            self._options[(kind(need), classification.urgency)] = (reachable, options)
        self.prices.observe(Arrival(mention.created_at, need.minutes, options))
