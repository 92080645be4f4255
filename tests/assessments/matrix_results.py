"""Rows of the results part (月兑现结果) for tests/test_permission_matrix.py (PAGES: url name → (method, kwargs,
{persona: status})) and tests/test_api_matrix.py (API: (method, path) → (kwargs, body, {persona: status})), in their
formats; the two matrices import them and run them.

Everyone with ``eval.view`` sees a finalized month's results page (secretary B and member A with only their own
organization's row); one result of branch A is seen in branch A's scope; adjusting and finalizing are for the
committee's staff. The month is a finalized 2023-06 of the committee (its own year, so it meets no other row's)."""

import datetime
from decimal import Decimal

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
SEES_BRANCH_A = {"admin", "staff", "assessor", "secretary_a", "member_user_a"}


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


def _all(status, **overrides):
    row = {p: status for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def finalized_month(c, year=2023, month=6):
    """A finalized month of the committee: every evaluation scored (full marks less a little) and published
    directly, no publicity window (``objection_days`` = 0), then closed by ``close.finalize_period``."""
    from dangjian.assessments import services
    from dangjian.assessments.close import finalize_period
    from dangjian.assessments.models import EvalItem, Evaluation, State
    from dangjian.standards.services import load_default_set

    load_default_set(c.staff, c.committee, year, publish=True)
    day = lambda d: datetime.date(year, month, d)  # noqa: E731
    period = services.open_period(c.staff, c.committee, f"{year}-{month:02d}", submit_due=day(25),
                                  self_due=day(26), assess_due=day(27), objection_days=0)
    for n, ei in enumerate(EvalItem.objects.filter(evaluation__period=period).order_by("id")):
        EvalItem.objects.filter(pk=ei.pk).update(self_score=ei.max_points,
                                                 assessor_score=max(ei.max_points - n % 3, Decimal(0)))
    Evaluation.objects.filter(period=period).update(state=State.PUBLISHED)
    return finalize_period(c.staff, period)


def _results(c):
    if not hasattr(c, "results_period"):
        from dangjian.assessments.models import Result

        c.results_period = finalized_month(c)
        c.result_a = Result.objects.get(period=c.results_period, org=c.branch_a)
    return c


PAGES = {
    "assessments:period_results": ("get", lambda c: {"pk": _results(c).results_period.pk}, _all(200, outsider=404)),
    "assessments:period_adjustments": ("get", lambda c: {"pk": _results(c).results_period.pk},
                                       _all(200, outsider=404)),
    "assessments:result_adjust": ("get", lambda c: {"pk": _results(c).result_a.pk}, _only(MANAGERS)),
}

API = {
    # Finalizing an already finalized month: a conflict (409) for those allowed, 404 for everyone else.
    ("post", "/api/v1/periods/{period_id}/finalize"): (lambda w: {"period_id": _results(w).results_period.pk}, None,
                                                       _api(MANAGERS, 409)),
    ("get", "/api/v1/periods/{period_id}/results"): (lambda w: {"period_id": _results(w).results_period.pk}, None,
                                                     _api(MANAGERS | {"assessor", "secretary_a", "secretary_b",
                                                                      "member_user_a"})),
    ("get", "/api/v1/results/{result_id}"): (lambda w: {"result_id": _results(w).result_a.pk}, None,
                                             _api(SEES_BRANCH_A)),
    ("post", "/api/v1/results/{result_id}/adjustments"): (
        lambda w: {"result_id": _results(w).result_a.pk},
        lambda w: {"new_total": str(w.result_a.total - 1), "reason": "复核更正：会议记录漏报。"}, _api(MANAGERS, 201)),
    ("get", "/api/v1/periods/{period_id}/adjustments"): (lambda w: {"period_id": _results(w).results_period.pk},
                                                         None, _api(MANAGERS | {"assessor", "secretary_a",
                                                                                "secretary_b", "member_user_a"})),
}
