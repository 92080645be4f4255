"""The loop in the demo company: the committee's customer-satisfaction item is scored from the service data.

``ensure_demo_dashboards`` runs after the demo's surveys (satisfaction indices) and tickets: it gives item ZY-33
(经营类党支部：客户满意度调查得分不低于90分, 7 points, "每低于目标1分扣1分") of the committee's published, not
frozen, standard sets the rule "客户满意度指数 ≥ 90 满分，≤ 83 零分" and scores the committee's open months
(assessments.auto). The assessments demo sets the rule first (``set_demo_rule``), before its finalized months
freeze the set. Idempotent: running it again writes nothing new. The dashboard itself needs no data of its
own: it reads the needs, tickets, indices and service activities of the other parts.
"""

import datetime
from decimal import Decimal

from dangjian.assessments.auto import apply_auto_scores
from dangjian.assessments.models import Period, PeriodStatus
from dangjian.orgs.models import Organization
from dangjian.standards.models import AutoSource, Item

DEMO_ITEM = "ZY-33"
FULL_AT, ZERO_AT, MIN_SAMPLE = Decimal("90"), Decimal("83"), 5


def set_demo_rule(root_org: Organization) -> int:
    """The rule on ZY-33 of the committee's published sets that are not frozen; returns the items changed."""
    items = Item.objects.filter(code=DEMO_ITEM, standard_set__owner=root_org, standard_set__status="published",
                                standard_set__frozen_at__isnull=True)
    return items.exclude(auto_source=AutoSource.CUSTOMER).update(
        auto_source=AutoSource.CUSTOMER, auto_full_at=FULL_AT, auto_zero_at=ZERO_AT, auto_min_sample=MIN_SAMPLE)


def ensure_demo_dashboards(root_org: Organization, staff_user, rng, today: datetime.date | None = None) -> dict:
    """Returns {"items": rule set on n items, "scored": items scored, "left": items left to the assessor}."""
    n = set_demo_rule(root_org)
    scored = left = 0
    for period in Period.objects.filter(owner=root_org, status=PeriodStatus.OPEN).order_by("month"):
        outcomes = apply_auto_scores(None, period)
        scored += sum(1 for o in outcomes if o.score is not None)
        left += sum(1 for o in outcomes if o.score is None)
    return {"items": n, "scored": scored, "left": left}
