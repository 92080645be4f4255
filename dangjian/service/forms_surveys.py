"""Forms of the surveys part: the survey's settings, a question, a template, links and invitation codes, and the
guards of the public response page. The checks that matter live in service.surveys (the forms only parse); the
choices of organizations and areas are limited to what the user may manage."""

from django import forms
from django.utils.translation import gettext_lazy

from dangjian.core import public
from dangjian.core.access import scope
from dangjian.orgs.models import Level, Organization, OrgType
from dangjian.service import surveys as services
from dangjian.service.models import QKind, ServiceArea, Survey
from dangjian.service.survey_templates import template_choices

PUBLIC_SALT = "dangjian.service.survey.response"
DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def manageable_orgs(user):
    return scope(user, "survey.manage", Organization.objects.filter(archived=False)).order_by("path")


class SurveyForm(forms.ModelForm):
    owner = forms.ModelChoiceField(label=gettext_lazy("发起单位"), queryset=Organization.objects.none(),
                                   widget=forms.Select(attrs={"class": "form-select"}))

    class Meta:
        model = Survey
        fields = ["owner", "title", "kind", "intro", "threshold", "min_responses", "one_per_invitation", "opens_on",
                  "closes_on"]
        widgets = {
            "title": forms.TextInput(attrs={"class": "form-control", "maxlength": services.TITLE_MAX}),
            "kind": forms.Select(attrs={"class": "form-select"}),
            "intro": forms.Textarea(attrs={"class": "form-control", "rows": 3, "maxlength": services.INTRO_MAX}),
            "threshold": forms.NumberInput(attrs={"class": "form-control", "step": "0.1", "min": 0, "max": 100}),
            "min_responses": forms.NumberInput(attrs={"class": "form-control", "min": 1, "max": 1000}),
            "one_per_invitation": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "opens_on": DATE, "closes_on": DATE,
        }
        help_texts = {
            "min_responses": gettext_lazy("某单位当月答卷少于此数时不自动生成工单，避免个别答卷造成误判"),
            "one_per_invitation": gettext_lazy("勾选后须凭专属二维码（邀请码）填写，每个邀请码只能提交一次"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["owner"]
            if self.instance.state != "draft":
                for name in ("kind", "one_per_invitation", "opens_on"):
                    self.fields[name].disabled = True
        else:
            self.fields["owner"].queryset = manageable_orgs(user).exclude(level=Level.BRANCH)
            self.fields["owner"].label_from_instance = lambda o: f"{'　' * o.depth}{o.name}"

    def _post_clean(self):  # the service validates and saves
        pass


class TemplateForm(forms.Form):
    template = forms.ChoiceField(label=gettext_lazy("问卷模板"), choices=template_choices,
                                 widget=forms.RadioSelect)
    owner = forms.ModelChoiceField(label=gettext_lazy("发起单位"), queryset=Organization.objects.none(),
                                   widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = manageable_orgs(user).exclude(level=Level.BRANCH)


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("题型"), choices=QKind.choices,
                             widget=forms.Select(attrs={"class": "form-select"}))
    text = forms.CharField(label=gettext_lazy("题目"), max_length=services.QUESTION_MAX,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    required = forms.BooleanField(label=gettext_lazy("必答"), required=False, initial=True,
                                  widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    options = forms.CharField(label=gettext_lazy("选项"), required=False,
                              widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
                              help_text=gettext_lazy("单选题、多选题填写，每行一个选项；满意度量表题固定为“满意、比较满意、"
                                                     "不太满意、不满意、不清楚”五级"))
    topic = forms.CharField(label=gettext_lazy("关注方面"), required=False, max_length=services.TOPIC_MAX,
                            widget=forms.TextInput(attrs={"class": "form-control"}),
                            help_text=gettext_lazy("满意度量表题所衡量的方面，如供电质量、电费电价、停电及抢修"))


class LinkForm(forms.Form):
    orgs = forms.ModelMultipleChoiceField(label=gettext_lazy("被评价单位"), required=False,
                                          queryset=Organization.objects.none(),
                                          widget=forms.CheckboxSelectMultiple)
    org_type = forms.ModelChoiceField(label=gettext_lazy("按类型批量添加"), required=False,
                                      queryset=OrgType.objects.filter(active=True),
                                      widget=forms.Select(attrs={"class": "form-select"}),
                                      help_text=gettext_lazy("添加本单位下该类型的全部党支部"))
    name_contains = forms.CharField(label=gettext_lazy("名称包含"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"class": "form-control",
                                                                  "placeholder": gettext_lazy("如：供电所")}),
                                    help_text=gettext_lazy("批量添加名称包含该词的全部党支部，如“供电所”"))
    areas = forms.ModelMultipleChoiceField(label=gettext_lazy("服务区域"), required=False,
                                           queryset=ServiceArea.objects.none(), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        subtree = Organization.objects.subtree(survey.owner.path).filter(archived=False)
        self.fields["orgs"].queryset = subtree.order_by("path")
        self.fields["orgs"].label_from_instance = lambda o: o.name
        self.fields["areas"].queryset = (ServiceArea.objects.filter(org__in=subtree, archived=False)
                                         .select_related("org").order_by("org__path", "name"))
        self.fields["areas"].label_from_instance = lambda a: f"{a.org.name} · {a.name}"

    def picked_orgs(self) -> list[Organization]:
        d = self.cleaned_data
        picked = list(d.get("orgs") or [])
        if d.get("org_type") or d.get("name_contains"):
            qs = self.fields["orgs"].queryset.filter(level=Level.BRANCH)
            if d.get("org_type"):
                qs = qs.filter(type=d["org_type"])
            if d.get("name_contains"):
                qs = qs.filter(name__contains=d["name_contains"].strip())
            picked += list(qs)
        return list({o.pk: o for o in picked}.values())


class InvitationForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("生成数量"), min_value=1, max_value=services.INVITATIONS_MAX,
                               initial=20, widget=forms.NumberInput(attrs={"class": "form-control"}))


class ResponseGuardForm(public.PublicFormMixin, forms.Form):
    """The guards of the public page (honeypot, timed token bound to the link's key) and the invitation code;
    the answers themselves are read from the post by question and checked by the service."""

    token_salt = PUBLIC_SALT

    # A plain field: the service checks the code (length, NUL, validity) and says what is wrong in Chinese.
    t = forms.Field(required=False, widget=forms.HiddenInput)
