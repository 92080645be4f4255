"""Forms of the evaluation pages. They parse input and shape choices (limited to the user's scope); the rules
live in services."""

import calendar
import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangjian.assessments.evidence import ACCEPT, PHOTO_ACCEPT
from dangjian.assessments.models import Evidence
from dangjian.orgs.forms import ScopedOrgField, org_choices
from dangjian.orgs.models import Level
from dangjian.standards.models import SetStatus, StandardSet

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def style(form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


def default_dates(month: datetime.date) -> dict:
    """Assumed defaults a committee changes: report by the 25th, self-assess by the last day, assessed by the
    5th of the next month."""
    last = calendar.monthrange(month.year, month.month)[1]
    nxt = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return {"submit_due": month.replace(day=min(25, last)), "self_due": month.replace(day=last),
            "assess_due": nxt.replace(day=5)}


class PeriodForm(forms.Form):
    owner = ScopedOrgField(queryset=None, label=_("组织考评的党委"),
                           help_text=_("该党委（党总支）下属的全部党组织都将参加本月考评。"))
    month = forms.RegexField(regex=r"^\d{4}-\d{2}$", label=_("考评月份"), max_length=7,
                             widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
                             error_messages={"invalid": _("月份格式应为 YYYY-MM，例如 2026-10。")})
    submit_due = forms.DateField(label=_("报送截止"), widget=DATE)
    self_due = forms.DateField(label=_("自评截止"), widget=DATE)
    assess_due = forms.DateField(label=_("考评截止"), widget=DATE)
    objection_days = forms.IntegerField(label=_("公示期（天）"), min_value=0, max_value=30, initial=3,
                                        help_text=_("首次公示之日后多少个自然日内可以提出异议，期满后才能兑现；0 表示不设公示期。"))
    standard_set = forms.ModelChoiceField(
        queryset=None, required=False, label=_("考评标准"), empty_label=_("自动：使用该党委当年已发布的考评标准"),
        help_text=_("默认按考评月份的年度，使用本党委或上级党委已发布的考评标准。"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = org_choices(user, "eval.manage").exclude(level=Level.BRANCH).order_by("path")
        self.fields["standard_set"].queryset = (StandardSet.objects.visible_to(user)
                                                .filter(status=SetStatus.PUBLISHED).select_related("owner"))
        self.fields["standard_set"].label_from_instance = lambda s: f"{s.year} · {s.owner.name} · {s}"
        if not self.is_bound:
            month = timezone.localdate().replace(day=1)
            self.initial.setdefault("month", f"{month:%Y-%m}")
            for k, v in default_dates(month).items():
                self.initial.setdefault(k, v)
            first = self.fields["owner"].queryset.first()
            if first is not None:
                self.initial.setdefault("owner", first.pk)
        style(self)


class SummaryForm(forms.Form):
    summary = forms.CharField(label=_("月小结"), max_length=5000, required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["summary"].widget.attrs["placeholder"] = _(
            "本月召开支委会、党员大会、党小组会和主题党日的情况，完成的重点工作，存在的问题和下月打算。")
        style(self)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("文件"), required=False)
    kind = forms.ChoiceField(choices=Evidence.Kind.choices, required=False, widget=forms.HiddenInput)
    item = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, photo=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = PHOTO_ACCEPT if photo else ACCEPT
        style(self)


class AssignForm(forms.Form):
    assessor = forms.ModelChoiceField(queryset=None, label=_("考评员"))
    evaluations = forms.ModelMultipleChoiceField(
        queryset=None, label=_("考评对象"), widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("按住 Ctrl（Mac 为 ⌘）可多选。分配后，这些组织只能由分配的考评员打分。"))
    replace = forms.BooleanField(label=_("替换该考评员本月原有的分配"), required=False)

    def __init__(self, *args, assessors=None, evaluations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessor"].queryset = assessors
        self.fields["assessor"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.get_username()})" if u.get_full_name() else u.get_username())
        self.fields["evaluations"].queryset = evaluations
        self.fields["evaluations"].label_from_instance = lambda e: e.org_name
        style(self)
        self.fields["evaluations"].widget.attrs["class"] = "form-select"
