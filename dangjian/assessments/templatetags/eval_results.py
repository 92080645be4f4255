"""``{% result_card ev %}``: an organization's finalized result (total, peer and overall rank, grade, coefficient)
and its adjustments, on the evaluation page. Two queries, only for a finalized month; the evaluation was already
read through the user's scope, so its own result and adjustments are in scope too."""

from django import template

from dangjian.assessments import results
from dangjian.assessments.models import Adjustment, Result

register = template.Library()


@register.inclusion_tag("assessments/results/_result_card.html", takes_context=True)
def result_card(context, ev):
    period = ev.period
    if not period.is_finalized:
        return {"result": None}
    result = Result.objects.filter(evaluation_id=ev.pk).select_related("org_type").first()
    if result is None:
        return {"result": None}
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "result": result, "period": period,
        "adjustments": list(Adjustment.objects.filter(result_id=result.pk).select_related("by").order_by("-at", "-pk")),
        "badge": results.grade_badges(period).get(result.grade, "secondary"),
        "can_adjust": user is not None and results.can_adjust(user, period),
    }
