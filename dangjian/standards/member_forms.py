"""Forms of the member standard pages. They parse input; the rules live in member_services (the forms only
shape choices, limited to the user's scope)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.orgs.forms import org_choices
from dangjian.orgs.models import Level
from dangjian.standards.forms import owner_field, style, year_field
from dangjian.standards.models import ActivitySource, Dimension, MemberPart, VetoEffect


def _number(label, help_text="", required=False, max_digits=5, min_value=None):
    return forms.DecimalField(label=label, required=required, max_digits=max_digits, decimal_places=1,
                              min_value=min_value, help_text=help_text,
                              widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))


def _owner_help(field):
    field.help_text = _("制定本标准的党委；其下属各级党组织的党员按本标准评价。")
    return field


class MemberSetForm(forms.Form):
    """New set; also the owner/year part of loading the default set and of importing a new set."""

    name = forms.CharField(label=_("标准名称"), max_length=100, help_text=_("如“2026年度党员量化评价标准”。"))
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, with_name=True, with_note=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"owner": _owner_help(owner_field(user)), "year": year_field(), **self.fields}
        if not with_name:
            del self.fields["name"]
        if not with_note:
            del self.fields["note"]
        style(self)


class MemberDefaultForm(MemberSetForm):
    publish = forms.BooleanField(label=_("载入后立即发布"), required=False,
                                 help_text=_("同一党委同一年度此前发布的版本将自动归档。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_name=False, with_note=False, **kwargs)


class MemberImportNewForm(MemberSetForm):
    file = forms.FileField(label=_("按模板填写的 Excel 文件（.xlsx）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_note=False, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("不填则使用文件“评价设置”表中的名称。")


class MemberImportIntoForm(forms.Form):
    file = forms.FileField(label=_("按模板填写的 Excel 文件（.xlsx）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class MemberCopyForm(forms.Form):
    name = forms.CharField(label=_("新版本名称"), max_length=100, required=False,
                           help_text=_("不填则沿用原名称（年度不同时自动替换名称中的年份）。"))

    def __init__(self, *args, user=None, source=None, **kwargs):
        super().__init__(*args, **kwargs)
        owners = org_choices(user, "standard.manage", level=Level.COMMITTEE)
        initial_owner = source.owner_id if owners.filter(pk=source.owner_id).exists() else None
        self.fields = {"owner": owner_field(user, initial_owner), "year": year_field(source.year), **self.fields}
        self.fields["owner"].help_text = _("可复制到本党委，也可复制到您管理的其他党委（如下级党委以此为基础制定本单位标准）。")
        style(self)


class MemberSettingsForm(forms.Form):
    """Name, note and the scoring settings of a draft."""

    name = forms.CharField(label=_("标准名称"), max_length=100)
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    bonus_cap = _number(_("奖励分上限（每月）"), _("留空表示不设上限。"))
    deduction_cap = _number(_("减项分上限（每月）"), _("留空表示不设上限。"))
    floor = _number(_("月度最低分"), _("月度得分不低于此分；留空表示不设下限。"))
    pass_mark = _number(_("合格分数线"), _("月度得分低于此分为不合格；留空表示只看否决项。"))
    veto_effect = forms.ChoiceField(label=_("否决项的效果"), choices=VetoEffect.choices)
    weight_self = _number(_("自评权重（%）"), required=True)
    weight_branch = _number(_("支部评定权重（%）"), _("两项权重之和应为100；只按支部评定计分时填0和100。"),
                            required=True)
    public_ranking = forms.BooleanField(label=_("在上墙页面公开显示支部内排名"), required=False,
                                        help_text=_("默认不显示，以正向激励为主。"))

    DIMENSION_PREFIX = "cap_"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for name, field in self.fields.items():
            fields[name] = field
            if name == "deduction_cap":
                for value, label in Dimension.choices:
                    fields[self.DIMENSION_PREFIX + value] = _number(label)
        self.fields = fields
        style(self)

    @classmethod
    def initial_for(cls, ms) -> dict:
        initial = {"name": ms.name, "note": ms.note, "bonus_cap": ms.bonus_cap, "deduction_cap": ms.deduction_cap,
                   "floor": ms.floor, "pass_mark": ms.pass_mark, "veto_effect": ms.veto_effect,
                   "weight_self": ms.weight_self, "weight_branch": ms.weight_branch,
                   "public_ranking": ms.public_ranking}
        initial.update({cls.DIMENSION_PREFIX + k: v for k, v in (ms.dimension_caps or {}).items()})
        return initial

    def dimension_fields(self):
        return [self[self.DIMENSION_PREFIX + value] for value, _label in Dimension.choices]

    def changes(self) -> dict:
        """The changed fields, as member_services.update_member_set takes them."""
        data = {}
        dimension_changed = False
        for name in self.changed_data:
            if name.startswith(self.DIMENSION_PREFIX):
                dimension_changed = True
            else:
                data[name] = self.cleaned_data[name]
        if dimension_changed:
            data["dimension_caps"] = {value: self.cleaned_data[self.DIMENSION_PREFIX + value]
                                      for value, _label in Dimension.choices
                                      if self.cleaned_data.get(self.DIMENSION_PREFIX + value) is not None}
        return data


class MemberItemForm(forms.Form):
    part = forms.ChoiceField(label=_("部分"), choices=MemberPart.choices)
    code = forms.CharField(label=_("编码"), max_length=20, help_text=_("本标准内唯一，如 JL-01。"))
    dimension = forms.ChoiceField(label=_("维度"), choices=Dimension.choices)
    text = forms.CharField(label=_("评价内容"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    rule = forms.CharField(label=_("计分说明"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("如“每次加2分，每月最多加6分”。"))
    points = _number(_("分值"), _("基础分项目为本项满分；奖励、减项为每次的分值；一票否决项不计分，留空。"))
    per_miss = _number(_("每缺一次扣分"), _("只用于基础分项目；留空表示缺一次即扣完本项分值。"))
    month_cap = _number(_("每月上限"), _("只用于奖励、减项；留空表示不设上限。"))
    year_cap = _number(_("全年上限"), _("只用于奖励、减项；不小于每月上限。"), max_digits=6)
    source = forms.ChoiceField(label=_("数据来源"), choices=ActivitySource.choices, required=False,
                               help_text=_("由活动记录自动带入当月次数；手工填报则由党员申报、支部评定。"))
    evidence_required = forms.BooleanField(label=_("申报时需附佐证材料"), required=False)

    FIELDS = ("part", "code", "dimension", "text", "rule", "points", "per_miss", "month_cap", "year_cap", "source",
              "evidence_required")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    @classmethod
    def initial_for(cls, item) -> dict:
        return {f: getattr(item, f) for f in cls.FIELDS}

    def item_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.FIELDS}
