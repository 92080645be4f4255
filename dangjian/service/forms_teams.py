"""Forms of the team pages. They parse input and limit choices to the user's scope; the rules (participants in
the team, published months locked, hours within a day …) are the services' (service.teams)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangjian.appraisal.forms_activities import DATE, HOURS, MemberChoiceField, style
from dangjian.core.access import scope
from dangjian.orgs.models import Member, Organization
from dangjian.service.models import TeamKind


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def manageable_orgs(user, action: str):
    return scope(user, action, Organization.objects.filter(archived=False)).order_by("path").only("id", "name")


class TeamForm(forms.Form):
    org = OrgChoiceField(queryset=Organization.objects.none(), label=_("所属组织"))
    name = forms.CharField(label=_("服务队名称"), max_length=60, initial="光明先锋共产党员服务队")
    kind = forms.ChoiceField(label=_("类型"), choices=TeamKind.choices)
    leader = MemberChoiceField(queryset=Member.objects.none(), label=_("队长"), required=False, empty_label=_("（无）"),
                               help_text=_("从本队队员中选择；新建后先在详情页添加队员。"))
    founded_on = forms.DateField(label=_("成立日期"), widget=DATE, required=False)
    description = forms.CharField(label=_("简介"), max_length=1000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is None:
            self.fields["org"].queryset = manageable_orgs(user, "team.manage")
            del self.fields["leader"]
        else:
            del self.fields["org"]
            self.fields["leader"].queryset = Member.objects.filter(service_teams__team=team).order_by(
                "name_pinyin", "id")
        style(self)


class ActivityForm(forms.Form):
    date = forms.DateField(label=_("活动日期"), widget=DATE)
    title = forms.CharField(label=_("活动名称"), max_length=100)
    place = forms.CharField(label=_("地点"), max_length=100)
    content = forms.CharField(label=_("活动内容"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    people_served = forms.IntegerField(label=_("服务人次"), min_value=0, max_value=1_000_000, initial=0)
    default_hours = forms.DecimalField(label=_("统一服务时长（小时）"), max_digits=4, decimal_places=1, required=False,
                                       widget=HOURS, help_text=_("勾选的队员默认按此时长计；个别队员可在下表单独填写。"))
    others = forms.CharField(label=_("其他参与党员"), max_length=500, required=False,
                             help_text=_("本组织及下级组织的党员姓名，用逗号或空格分隔；按统一时长计。"))
    add_missing = forms.BooleanField(label=_("同时加入服务队"), required=False,
                                     help_text=_("“其他参与党员”中尚不是队员的，保存时一并加入本服务队。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        style(self)


class PhotoForm(forms.Form):
    file = forms.FileField(label=_("现场照片"), help_text=_("JPG 或 PNG 图片"))
