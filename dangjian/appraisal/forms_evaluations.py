"""Forms of the monthly member evaluation pages. They parse input and shape choices (limited to the user's
scope); the rules live in appraisal.services. The per-item inputs of the self-evaluation and determination
pages are plain named fields (``count-<line id>`` …) read by ``line_inputs``."""

import calendar
import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.assessments.evidence import ACCEPT
from dangjian.assessments.forms import DATE, style
from dangjian.orgs.forms import ScopedOrgField, org_choices
from dangjian.orgs.models import Level
from dangjian.standards.models import MemberStandardSet, SetStatus


def default_dates(month: datetime.date) -> dict:
    """Assumed defaults a committee changes: self-evaluation by the 25th, determination by the last day."""
    last = calendar.monthrange(month.year, month.month)[1]
    return {"self_due": month.replace(day=min(25, last)), "determine_due": month.replace(day=last)}


class PeriodForm(forms.Form):
    owner = ScopedOrgField(queryset=None, label=_("组织评价的单位"),
                           help_text=_("该党委（党总支）下属各支部的全部在册党员都将参加本月评价。"))
    month = forms.RegexField(regex=r"^\d{4}-\d{2}$", label=_("评价月份"), max_length=7,
                             widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
                             error_messages={"invalid": _("月份格式应为 YYYY-MM，例如 2026-10。")})
    self_due = forms.DateField(label=_("自评截止"), widget=DATE)
    determine_due = forms.DateField(label=_("评定截止"), widget=DATE)
    standard_set = forms.ModelChoiceField(
        queryset=None, required=False, label=_("评价标准"), empty_label=_("自动：使用当年已发布的党员评价标准"),
        help_text=_("默认按评价月份的年度，使用本单位或上级党委已发布的党员评价标准。"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (org_choices(user, "appraisal.manage").exclude(level=Level.BRANCH)
                                         .order_by("path"))
        self.fields["standard_set"].queryset = (MemberStandardSet.objects.filter(status=SetStatus.PUBLISHED)
                                                .select_related("owner").order_by("-year", "owner__path"))
        self.fields["standard_set"].label_from_instance = lambda s: f"{s.year} · {s.owner.name} · {s.name}"
        style(self)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("佐证材料"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ACCEPT
        style(self)


def line_inputs(data, prefix: str = "") -> dict[int, dict]:
    """{line id: {"count", "text", "version"}} from a POST of the per-item inputs: ``<prefix>count-<id>``,
    ``<prefix>text-<id>`` (the member's remark or the branch's reason) and ``<prefix>version-<id>``. Values stay
    as typed (strings): the services parse and reject them with a Chinese sentence."""
    out: dict[int, dict] = {}
    head = f"{prefix}count-"
    for key in data:
        if not key.startswith(head):
            continue
        raw_id = key[len(head):]
        if not raw_id.isdigit():
            continue
        pk = int(raw_id)
        version = data.get(f"{prefix}version-{pk}", "")
        out[pk] = {"count": data.get(key, "").strip(), "text": data.get(f"{prefix}text-{pk}", "").strip(),
                   "version": int(version) if version.isdigit() else None}
    return out
