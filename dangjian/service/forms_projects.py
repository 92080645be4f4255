"""Forms of the project pages; the rules are the services' (service.projects)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.appraisal.forms_activities import DATE, MemberChoiceField, style
from dangjian.orgs.models import Member, Organization
from dangjian.service.forms_teams import OrgChoiceField, manageable_orgs
from dangjian.service.models import ProjectKind, ProjectState
from dangjian.service.projects import lead_choices


class ProjectForm(forms.Form):
    org = OrgChoiceField(queryset=Organization.objects.none(), label=_("实施单位"))
    name = forms.CharField(label=_("项目名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=ProjectKind.choices)
    state = forms.ChoiceField(label=_("状态"), choices=ProjectState.choices)
    goal = forms.CharField(label=_("项目目标"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("计划结束日期"), widget=DATE, required=False)
    lead = MemberChoiceField(queryset=Member.objects.none(), label=_("负责人"), required=False, empty_label=_("（无）"))

    def __init__(self, *args, user=None, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is None:
            self.fields["org"].queryset = manageable_orgs(user, "project.manage")
            del self.fields["lead"]
        else:
            del self.fields["org"]
            self.fields["lead"].queryset = lead_choices(project.org)
        style(self)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("里程碑"), max_length=100)
    due_on = forms.DateField(label=_("计划日期"), widget=DATE)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class IndicatorForm(forms.Form):
    name = forms.CharField(label=_("指标名称"), max_length=60)
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    baseline = forms.DecimalField(label=_("基线值"), max_digits=14, decimal_places=2, required=False)
    target = forms.DecimalField(label=_("目标值"), max_digits=14, decimal_places=2, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class ValueForm(forms.Form):
    on = forms.DateField(label=_("日期"), widget=DATE)
    value = forms.DecimalField(label=_("数值"), max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)
