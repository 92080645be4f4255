"""Forms of the activity pages. They parse input and limit choices to the user's scope; every rule (dates not in
the future, hours within a day, one dues row a month …) is the services' (appraisal.activities)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import MeetingKind, StudyForm
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Member

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
HOURS = forms.NumberInput(attrs={"step": "0.5", "min": "0.5", "max": "24", "inputmode": "decimal"})


def style(form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.RadioSelect):
            continue
        if isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.post}）" if obj.post else obj.name


def branch_members(org) -> "forms.QuerySet":
    return Member.objects.filter(org=org, active=True).only("id", "name", "post", "org_id").order_by(
        "name_pinyin", "id")


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("主题"), max_length=200)
    date = forms.DateField(label=_("日期"), widget=DATE)
    place = forms.CharField(label=_("地点"), max_length=100, required=False)
    host = forms.CharField(label=_("主持人"), max_length=40, required=False)
    lecturer = MemberChoiceField(queryset=Member.objects.none(), label=_("授课人"), required=False,
                                 empty_label=_("（无）"), help_text=_("党课的授课人，计入其“讲党课次数”。"))
    content = forms.CharField(label=_("内容纪要"), max_length=5000, required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lecturer"].queryset = branch_members(org) if org is not None else Member.objects.none()
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        style(self)


class StudyRecordForm(forms.Form):
    member = MemberChoiceField(queryset=Member.objects.none(), label=_("党员"))
    date = forms.DateField(label=_("学习日期"), widget=DATE)
    title = forms.CharField(label=_("学习内容"), max_length=200)
    form = forms.ChoiceField(label=_("形式"), choices=StudyForm.choices, initial=StudyForm.SELF)
    hours = forms.DecimalField(label=_("学时"), initial=1, widget=HOURS)
    notes = forms.CharField(label=_("心得体会"), max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, members=None, with_member=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_member:
            self.fields["member"].queryset = members if members is not None else Member.objects.none()
        else:
            del self.fields["member"]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        style(self)


class MyStudyForm(StudyRecordForm):
    """The member's own quick entry on a phone: the form as buttons, a few hour presets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_member=False, **kwargs)
        self.fields["form"].widget = forms.RadioSelect(choices=StudyForm.choices)
        self.fields["title"].widget.attrs["placeholder"] = _("如：学习《中国共产党章程》第一章")
        self.fields["notes"].widget.attrs["placeholder"] = _("可不填")


class DuesForm(forms.Form):
    amount = forms.DecimalField(label=_("金额（元）"), widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01",
                                                                                      "inputmode": "decimal"}))
    paid_on = forms.DateField(label=_("交纳日期"), widget=DATE,
                              help_text=_("在所属月份最后一天（含）之前交纳为按时交纳。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class ServiceForm(forms.Form):
    member = MemberChoiceField(queryset=Member.objects.none(), label=_("党员"))
    date = forms.DateField(label=_("服务日期"), widget=DATE)
    activity = forms.CharField(label=_("服务内容"), max_length=200)
    hours = forms.DecimalField(label=_("时长（小时）"), widget=HOURS)
    people_served = forms.IntegerField(label=_("服务人次"), min_value=0, initial=0, required=False)
    source = forms.CharField(label=_("来源"), max_length=40, required=False,
                             help_text=_("如：共产党员服务队、社区志愿服务。"))

    def __init__(self, *args, members=None, with_member=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_member:
            self.fields["member"].queryset = members if members is not None else Member.objects.none()
        else:
            del self.fields["member"]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        style(self)


def parse_month(value, default: datetime.date | None = None) -> datetime.date:
    """A month from the query string (YYYY-MM); the current month when empty or malformed."""
    try:
        return act.month_start(value) if value else (default or timezone.localdate().replace(day=1))
    except DomainError:
        return default or timezone.localdate().replace(day=1)
