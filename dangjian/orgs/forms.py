from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dangjian.core.access import scope
from dangjian.core.validators import normalize_id_number
from dangjian.orgs.models import Duty, Member, Organization, OrgType, Role

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapMixin:
    def _style(self):
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.CheckboxInput):
                w.attrs.setdefault("class", "form-check-input")
            elif isinstance(w, forms.Select):
                w.attrs.setdefault("class", "form-select")
            else:
                w.attrs.setdefault("class", "form-control")


class ScopedOrgField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "　" * obj.depth + obj.name


def org_choices(user, action, **filters):
    return scope(user, action, Organization.objects.active().filter(**filters)).only("id", "name", "depth", "path")


class OrgForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "code", "level", "type", "established_on", "term_ends_on", "address", "order"]
        widgets = {"established_on": DATE, "term_ends_on": DATE}

    def __init__(self, *args, user=None, with_parent=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = OrgType.objects.filter(active=True)
        self.fields["type"].help_text = _("党支部必选；党委、党总支可不选。")
        self.fields["type"].label_from_instance = lambda t: t.display_name
        if with_parent:
            self.fields["parent"] = ScopedOrgField(org_choices(user, "org.manage").exclude(level="branch"),
                                                   label=_("上级组织"), required=True)
            self.order_fields(["parent"])
        self._style()


class MoveForm(BootstrapMixin, forms.Form):
    new_parent = ScopedOrgField(Organization.objects.none(), label=_("新的上级组织"))
    effective_on = forms.DateField(label=_("生效日期"), widget=DATE)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args, user=None, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = (
            org_choices(user, "org.manage").exclude(level="branch").exclude(path__startswith=org.path)
        )
        self._style()


class MergeForm(BootstrapMixin, forms.Form):
    target = ScopedOrgField(Organization.objects.none(), label=_("并入组织"))
    effective_on = forms.DateField(label=_("生效日期"), widget=DATE)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args, user=None, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            org_choices(user, "org.manage", level=org.level).exclude(path__startswith=org.path)
        )
        self._style()


class ReasonForm(BootstrapMixin, forms.Form):
    effective_on = forms.DateField(label=_("生效日期"), widget=DATE, required=False)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class MemberForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Member
        fields = ["name", "gender", "birth_date", "id_number", "phone", "joined_on", "confirmed_on", "status",
                  "post", "title"]
        widgets = {"birth_date": DATE, "joined_on": DATE, "confirmed_on": DATE}

    def __init__(self, *args, user=None, with_org=False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_org:
            self.fields["org"] = ScopedOrgField(org_choices(user, "member.manage", level="branch"),
                                                label=_("所在党支部"))
            self.order_fields(["org"])
        self._style()

    def clean_id_number(self):
        return normalize_id_number(self.cleaned_data["id_number"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(gettext("请填写姓名。"))
        return name


class TransferForm(BootstrapMixin, forms.Form):
    to_org = ScopedOrgField(Organization.objects.none(), label=_("转入党支部"))
    effective_on = forms.DateField(label=_("转接日期"), widget=DATE)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args, user=None, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_org"].queryset = org_choices(user, "member.manage", level="branch").exclude(
            pk=member.org_id)
        self._style()


class PledgeForm(BootstrapMixin, forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    text = forms.CharField(label=_("承诺内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class PhotoForm(BootstrapMixin, forms.Form):
    photo = forms.FileField(label=_("照片（JPG/PNG，不超过2MB）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png"
        self._style()


class SeatForm(BootstrapMixin, forms.Form):
    member = forms.ModelChoiceField(Member.objects.none(), label=_("党员"))
    duty = forms.ChoiceField(label=_("职务"), choices=Duty.choices)
    since = forms.DateField(label=_("任职日期"), widget=DATE)

    def __init__(self, *args, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.filter(org__path__startswith=org.path, active=True)
        self._style()


class GrantForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    org = ScopedOrgField(Organization.objects.none(), label=_("授权组织（含下级）"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_choices(user, "role.manage")
        self._style()


class AccountForm(BootstrapMixin, forms.Form):
    username = forms.RegexField(label=_("用户名"), regex=r"^[A-Za-z0-9_.@-]{3,40}$", max_length=40,
                                error_messages={"invalid": _("用户名只能包含字母、数字和 _ . @ -，长度3至40位。")})
    full_name = forms.CharField(label=_("姓名"), max_length=40)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, min_length=12)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class ResetPasswordForm(BootstrapMixin, forms.Form):
    password = forms.CharField(label=_("新密码"), widget=forms.PasswordInput, strip=False,
                               help_text=_("至少12位，包含大写字母、小写字母、数字、符号中的至少三类。"))
    password2 = forms.CharField(label=_("确认新密码"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data
