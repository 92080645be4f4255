"""Forms of the ticket pages. They parse input and limit choices to the user's scope; the rules (which step may
change which field, what a step needs before the ticket moves on, dates, files) are service.tickets'."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangjian.assessments.evidence import ACCEPT
from dangjian.core.access import scope
from dangjian.orgs.models import Organization
from dangjian.service import tickets as services
from dangjian.service.models import Satisfaction, ServiceArea

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def text_area(rows=3):
    return forms.Textarea(attrs={"rows": rows})


def style(form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.HiddenInput | forms.RadioSelect):
            continue
        if isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "\u3000" * max(obj.depth - 1, 0) + obj.name


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def scoped_orgs(user, action: str):
    return scope(user, action, Organization.objects.filter(archived=False)).order_by("path").only(
        "id", "name", "path", "depth")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TicketCreateForm(forms.Form):
    org = OrgChoiceField(queryset=Organization.objects.none(), label=_("责任单位"))
    area = forms.ModelChoiceField(queryset=ServiceArea.objects.none(), label=_("服务区域"), required=False,
                                  help_text=_("须属于责任单位。"))
    title = forms.CharField(label=_("标题"), max_length=60)
    description = forms.CharField(label=_("问题描述"), max_length=2000, widget=text_area(4))
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=DATE,
                               help_text=_("可在计划阶段再确定。"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = scoped_orgs(user, "ticket.handle")
        self.fields["area"].queryset = scope(user, "ticket.handle", ServiceArea.objects.filter(
            archived=False)).select_related("org").order_by("org__path", "name")
        style(self)


class PlanForm(VersionForm):
    analysis = forms.CharField(label=_("原因分析"), max_length=2000, required=False, widget=text_area(3))
    measures = forms.CharField(label=_("整改措施"), max_length=2000, required=False, widget=text_area(3))
    owner = UserChoiceField(queryset=get_user_model().objects.none(), label=_("责任人"), required=False,
                            empty_label=_("（未指定）"), help_text=_("到期提醒发给责任人；未指定时发给责任单位的处理人。"))
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=DATE)
    area = forms.ModelChoiceField(queryset=ServiceArea.objects.none(), label=_("服务区域"), required=False)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = services.owner_choices(ticket.org)
        self.fields["area"].queryset = ServiceArea.objects.filter(org=ticket.org, archived=False)
        if not self.is_bound:
            self.initial.update(version=ticket.version, analysis=ticket.analysis, measures=ticket.measures,
                                owner=ticket.owner_id, due_date=ticket.due_date, area=ticket.area_id)
        style(self)


class CheckForm(VersionForm):
    verification = forms.CharField(label=_("核查情况"), max_length=2000, required=False, widget=text_area(3),
                                   help_text=_("现场核查整改效果、数据对比等。"))
    satisfaction = forms.ChoiceField(label=_("诉求人满意度"), required=False,
                                     choices=[("", _("（未回访）"))] + list(Satisfaction.choices))
    callback_on = forms.DateField(label=_("回访日期"), required=False, widget=DATE)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.update(version=ticket.version, verification=ticket.verification,
                                satisfaction=ticket.satisfaction, callback_on=ticket.callback_on)
            if ticket.origin == "need" and ticket.callback_on is None:
                self.initial["callback_on"] = timezone.localdate()
        style(self)


class ActForm(VersionForm):
    standardization = forms.CharField(label=_("固化与改进"), max_length=2000, required=False, widget=text_area(3),
                                      help_text=_("形成的制度、标准、流程或长效机制。"))
    similar_cases = forms.CharField(label=_("举一反三"), max_length=2000, required=False, widget=text_area(3),
                                    help_text=_("排查、整改同类问题的情况；投诉类工单必填。"))
    recurrence = forms.BooleanField(label=_("同类问题重复发生"), required=False)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.update(version=ticket.version, standardization=ticket.standardization,
                                similar_cases=ticket.similar_cases, recurrence=ticket.recurrence)
        style(self)


class ActionForm(forms.Form):
    date = forms.DateField(label=_("落实日期"), widget=DATE)
    text = forms.CharField(label=_("措施落实情况"), max_length=2000, widget=text_area(3))
    files = MultipleFileField(label=_("佐证材料"), required=False,
                              help_text=_("PDF、图片或 Office 文档，可多选；每个不超过 20 MB。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        style(self)


class ReassignForm(VersionForm):
    org = OrgChoiceField(queryset=Organization.objects.none(), label=_("责任单位"))
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=DATE)

    def __init__(self, *args, ticket=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = scoped_orgs(user, "ticket.manage")
        if not self.is_bound:
            self.initial.update(version=ticket.version, org=ticket.org_id, due_date=ticket.due_date)
        style(self)


class MoveForm(VersionForm):
    to_state = forms.CharField(max_length=10)
    reason = forms.CharField(max_length=500, required=False)
