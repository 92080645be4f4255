"""Forms of the standard pages. They parse input; the rules live in services (the forms only shape choices,
limited to the user's scope)."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.orgs.forms import ScopedOrgField, org_choices
from dangjian.orgs.models import Level, OrgType
from dangjian.standards.models import AutoSource, Method


def style(form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxSelectMultiple):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


def owner_field(user, initial=None):
    qs = org_choices(user, "standard.manage", level=Level.COMMITTEE)
    return ScopedOrgField(qs, label=_("制定单位"), initial=initial,
                          help_text=_("制定本标准的党委；其下属各级党组织按本标准考评。"))


def year_field(initial=None):
    return forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100,
                              initial=initial or datetime.date.today().year)


class SetForm(forms.Form):
    """New set; also the owner/year/name part of loading the default set and of importing a new set."""

    name = forms.CharField(label=_("标准名称"), max_length=100,
                           help_text=_("如“2026年度党组织量化考评标准”。"))
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, with_owner=True, with_name=True, with_note=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_owner:
            self.fields = {"owner": owner_field(user), "year": year_field(), **self.fields}
        if not with_name:
            del self.fields["name"]
        if not with_note:
            del self.fields["note"]
        style(self)


class SetEditForm(forms.Form):
    name = forms.CharField(label=_("标准名称"), max_length=100)
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class CopyForm(forms.Form):
    name = forms.CharField(label=_("新版本名称"), max_length=100, required=False,
                           help_text=_("不填则沿用原名称（年度不同时自动替换名称中的年份）。"))

    def __init__(self, *args, user=None, source=None, **kwargs):
        super().__init__(*args, **kwargs)
        owners = org_choices(user, "standard.manage", level=Level.COMMITTEE)
        initial_owner = source.owner_id if owners.filter(pk=source.owner_id).exists() else None
        self.fields = {"owner": owner_field(user, initial_owner), "year": year_field(source.year), **self.fields}
        self.fields["owner"].help_text = _("可复制到本党委，也可复制到您管理的其他党委（如下级党委以此为基础制定本单位标准）。")
        style(self)


class DefaultSetForm(SetForm):
    publish = forms.BooleanField(label=_("载入后立即发布"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_name=False, with_note=False, **kwargs)


class ImportNewForm(SetForm):
    file = forms.FileField(label=_("按模板填写的 Excel 文件（.xlsx）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_note=False, **kwargs)


class ImportIntoForm(forms.Form):
    file = forms.FileField(label=_("按模板填写的 Excel 文件（.xlsx）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class CategoryForm(forms.Form):
    code = forms.CharField(label=_("类别编码"), max_length=10, help_text=_("字母或数字，如 ZZ；细则编码常以它开头。"))
    name = forms.CharField(label=_("类别名称"), max_length=40)
    order = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class TypeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class ItemForm(forms.Form):
    category = forms.ModelChoiceField(queryset=None, label=_("类别"), empty_label=None)
    code = forms.CharField(label=_("细则编码"), max_length=20, help_text=_("本标准内唯一，如 ZZ-01。"))
    text = forms.CharField(label=_("考评内容"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    max_points = forms.DecimalField(label=_("分值"), max_digits=5, decimal_places=1, min_value=0.1)
    rule = forms.CharField(label=_("扣分标准"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("如“每缺一次扣2分，扣完为止”。"))
    evidence = forms.CharField(label=_("要求报送的资料"), max_length=1000, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    methods = forms.MultipleChoiceField(label=_("考评方式"), choices=Method.choices,
                                        widget=forms.CheckboxSelectMultiple)
    applies_levels = forms.MultipleChoiceField(label=_("适用层级"), choices=Level.choices, required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               help_text=_("不选表示适用于全部层级。"))
    applies_types = TypeChoiceField(queryset=OrgType.objects.none(), label=_("适用类型"), required=False,
                                    widget=forms.CheckboxSelectMultiple,
                                    help_text=_("不选为公用项（各类型通用）；选择后为差异项，只考评所选类型。"))
    is_veto = forms.BooleanField(label=_("一票否决项（触发后不得评为最高等次）"), required=False)
    auto_source = forms.ChoiceField(label=_("服务数据计分"), choices=AutoSource.choices, required=False,
                                    help_text=_("选择后，平台按该组织（含下级）当月的服务数据计算本项考评得分，并注明来源；"
                                                "当月没有数据时留给考评员评分。"))
    auto_full_at = forms.DecimalField(label=_("满分线"), required=False, max_digits=4, decimal_places=1, min_value=0,
                                      max_value=100, help_text=_("指数或销号率（%）达到该值得满分。"))
    auto_zero_at = forms.DecimalField(label=_("零分线"), required=False, max_digits=4, decimal_places=1, min_value=0,
                                      max_value=100, help_text=_("不高于该值得0分，其间按比例计分，保留一位小数。"))
    auto_min_sample = forms.IntegerField(label=_("最少样本数"), required=False, min_value=1, max_value=10000,
                                         help_text=_("满意度的样本数（或应销号工单数）少于该值时不自动计分。"))

    def __init__(self, *args, standard_set=None, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = standard_set.categories.order_by("order", "id")
        self.fields["category"].label_from_instance = lambda c: f"{c.code} {c.name}"
        self.types = list(types)
        self.fields["applies_types"].queryset = OrgType.objects.filter(pk__in=[t.pk for t in self.types])
        for t in self.types:
            self.fields[f"weight_{t.code}"] = forms.DecimalField(
                label=t.display_name, required=False, max_digits=4, decimal_places=2, min_value=0.01,
                max_value=10, widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "1"}))
        style(self)

    def weight_fields(self):
        return [self[f"weight_{t.code}"] for t in self.types]

    def item_data(self) -> dict:
        data = {k: self.cleaned_data[k] for k in ("category", "code", "text", "max_points", "rule", "evidence",
                                                   "methods", "applies_levels", "is_veto", "auto_source",
                                                   "auto_full_at", "auto_zero_at", "auto_min_sample")}
        data["applies_types"] = list(self.cleaned_data["applies_types"])
        data["weights"] = {t.code: self.cleaned_data[f"weight_{t.code}"] for t in self.types
                           if self.cleaned_data.get(f"weight_{t.code}") is not None}
        return data
