"""Forms of the needs part: staff entry, triage (accept / decline), areas, and the public need form.

The forms only shape the input; the rules and their Chinese sentences are the services' (service.needs), which
the views put beside the fields (core.views.form_error). The public form carries the guards of
``core.public.PublicFormMixin`` besides CSRF: a honeypot and a signed, timed token bound to the channel's key.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core import public
from dangjian.core.errors import DomainError
from dangjian.service import needs as services
from dangjian.service.common import TITLE_MAX
from dangjian.service.models import NeedCategory, NeedKind, NeedSource, Urgency

TOKEN_SALT = "dangjian.service.needs.public"
PUBLIC_CATEGORIES = [NeedCategory.NEED, NeedCategory.COMPLAINT, NeedCategory.OPINION, NeedCategory.SUGGESTION,
                     NeedCategory.PRAISE]


def form_token(key: str) -> str:
    return public.form_token(TOKEN_SALT, key)


def _css(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect | forms.HiddenInput):
            continue
        widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.org.name} · {obj.name}"


class NeedForm(forms.Form):
    org = forms.ModelChoiceField(label=gettext_lazy("受理单位"), queryset=None)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=NeedKind.choices, initial=NeedKind.PEOPLE)
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=NeedCategory.choices, initial=NeedCategory.NEED)
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=NeedSource.choices, initial=NeedSource.HOTLINE)
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    area = AreaChoiceField(label=gettext_lazy("服务区域"), queryset=None, required=False,
                           help_text=gettext_lazy("须为受理单位的服务区域；可不选"))
    title = forms.CharField(label=gettext_lazy("标题"), required=False, max_length=TITLE_MAX,
                            help_text=gettext_lazy("不填时取内容的第一句"))
    text = forms.CharField(label=gettext_lazy("内容"), max_length=services.TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 5}))
    requester = forms.CharField(label=gettext_lazy("诉求人"), required=False, max_length=services.NAME_MAX)
    contact = forms.CharField(label=gettext_lazy("联系方式"), required=False, max_length=public.CONTACT_MAX,
                              help_text=gettext_lazy("手机号、固定电话或电子邮箱；仅有权人员可见，列表中脱敏显示"))
    address = forms.CharField(label=gettext_lazy("地址"), required=False, max_length=services.ADDRESS_MAX)
    received_on = forms.DateField(label=gettext_lazy("受理日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, orgs, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["area"].queryset = areas.select_related("org")
        self.fields["received_on"].initial = timezone.localdate()
        _css(self)


class AcceptForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("工单标题"), max_length=TITLE_MAX, required=False)
    description = forms.CharField(label=gettext_lazy("问题描述"), required=False, max_length=services.TEXT_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=gettext_lazy("不填时使用需求内容"))
    due_date = forms.DateField(label=gettext_lazy("完成期限"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=gettext_lazy("不填时按紧急程度：一般15天、紧急5天、特急1天"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _css(self)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("不予受理理由"), max_length=services.DECLINE_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("必填：说明为何不予受理，便于回复诉求人"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _css(self)


class AreaForm(forms.Form):
    org = forms.ModelChoiceField(label=gettext_lazy("所属单位"), queryset=None)
    name = forms.CharField(label=gettext_lazy("区域名称"), max_length=services.AREA_NAME_MAX,
                           help_text=gettext_lazy("如 城关网格、东城网格"))
    grid_manager = forms.CharField(label=gettext_lazy("网格经理"), required=False,
                                   max_length=services.GRID_MANAGER_MAX)
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=services.AREA_NOTE_MAX,
                           help_text=gettext_lazy("如 所辖台区、街道、村"))

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if orgs is None:
            del self.fields["org"]
        else:
            self.fields["org"].queryset = orgs
        _css(self)


class PublicNeedForm(public.PublicFormMixin, forms.Form):
    """The public form (from the QR code, no login). Sizes are checked by the service with its sentences."""

    token_salt = TOKEN_SALT

    category = forms.ChoiceField(label=gettext_lazy("您要反映的是"), initial=NeedCategory.NEED,
                                 widget=forms.RadioSelect)
    area = forms.TypedChoiceField(label=gettext_lazy("所在区域"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=gettext_lazy("标题"), required=False, strip=True,
                            widget=forms.TextInput(attrs={"maxlength": TITLE_MAX}),
                            help_text=gettext_lazy("选填，一句话概括；不填时自动取内容的第一句"))
    text = forms.CharField(label=gettext_lazy("具体内容"), strip=True,
                           widget=forms.Textarea(attrs={"rows": 6, "maxlength": services.PUBLIC_TEXT_MAX}),
                           help_text=gettext_lazy("10–1000字，请写明地点和情况；请勿填写网址或链接"))
    requester = forms.CharField(label=gettext_lazy("您的称呼"), required=False, strip=True,
                                widget=forms.TextInput(attrs={"maxlength": services.NAME_MAX,
                                                              "autocomplete": "name"}),
                                help_text=gettext_lazy("选填，如 王女士"))
    contact = forms.CharField(label=gettext_lazy("联系电话"), required=False, strip=True,
                              widget=forms.TextInput(attrs={"maxlength": public.CONTACT_MAX, "autocomplete": "tel",
                                                            "inputmode": "tel"}),
                              help_text=gettext_lazy("建议填写，便于我们回访；仅供电单位工作人员可见，不会公开"))

    def __init__(self, *args, channel_key: str, areas, **kwargs):
        super().__init__(*args, public_key=channel_key, **kwargs)
        self.fields["category"].choices = [(c.value, c.label) for c in PUBLIC_CATEGORIES]
        if areas:
            self.fields["area"].choices = [("", _("（不清楚 / 不选）"))] + [(str(a.pk), a.name) for a in areas]
        else:
            del self.fields["area"]
        _css(self)

    def _service_check(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_text(self):
        return self._service_check(public.clean_text, self.cleaned_data.get("text"),
                                   min_len=services.PUBLIC_TEXT_MIN, max_len=services.PUBLIC_TEXT_MAX)

    def clean_title(self):
        title = self.cleaned_data.get("title") or ""
        if len(title) > TITLE_MAX:
            raise forms.ValidationError(_("标题不能超过{n}个字。").format(n=TITLE_MAX))
        if title:
            self._service_check(public.clean_text, title, min_len=0, max_len=TITLE_MAX, field="title")
        return title

    def clean_requester(self):
        value = self.cleaned_data.get("requester") or ""
        if "\x00" in value:
            raise forms.ValidationError(_("内容含有无效字符，请重新输入。"))
        if len(value) > services.NAME_MAX:
            raise forms.ValidationError(_("称呼不能超过{n}个字。").format(n=services.NAME_MAX))
        return value

    def clean_contact(self):
        return self._service_check(public.clean_contact, self.cleaned_data.get("contact"))
