"""Each arriving mention, told to the day plan that forecasts the traffic ahead."""

from __future__ import annotations

from collections.abc import Sequence

from routing.eligibility import Need
from routing.models import Classification, Employee, Mention
from routing.plan import DayPlan


class PriceTutor:
    """Tells the day plan of every arrival someone could take (only the adaptive policy plans)."""

    def __init__(self, plan: DayPlan, enabled: bool) -> None:
        self.plan = plan
        self.enabled = enabled

    def learn(
        self,
        mention: Mention,
        classification: Classification,
        need: Need,
        candidates: Sequence[Employee],
    ) -> None:
        if self.enabled and candidates:
            self.plan.observe(mention.created_at, need, classification.urgency)
