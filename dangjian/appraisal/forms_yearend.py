"""Forms of the year-end pages. They parse input; the rules are yearend.py's (``parse_rule``, ``record_review``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.appraisal.models import Grade
from dangjian.appraisal.yearend import RULE_FIELDS, RULE_GRADES, VOTE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def style(form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


_NUMBER_HELP = {
    "excellent_share": _("按参评人数计算、向下取整；默认 33.3 即“不超过三分之一”。"),
    "excellent_min_avg": _("月均分达到此分、且全年无一票否决，才可能被建议为优秀。"),
    "basic_below_avg": _("月均分低于此分，建议为基本合格。"),
    "unqualified_below_avg": _("月均分低于此分，建议为不合格。"),
}
_GRADE_HELP = {
    "veto_max_grade": _("全年有一票否决的月份时，建议等次不高于此等次。"),
    "unqualified_month_max_grade": _("全年有不合格的月份时，建议等次不高于此等次；选“优秀”表示不限制。"),
}


class RuleForm(forms.Form):
    """The review's rule for suggested grades (民主评议建议等次规则)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, kind in RULE_FIELDS:
            if kind == "number":
                self.fields[name] = forms.DecimalField(
                    label=_(label), min_value=0, max_digits=4, decimal_places=1, help_text=_NUMBER_HELP[name],
                    error_messages={"invalid": _("请输入数字，最多一位小数。"),
                                    "max_decimal_places": _("最多一位小数。"),
                                    "max_digits": _("数值过大。"), "min_value": _("不能小于 0。")})
            else:
                self.fields[name] = forms.ChoiceField(
                    label=_(label), choices=[(g.value, g.label) for g in RULE_GRADES[name]],
                    help_text=_GRADE_HELP[name])
        style(self)


class ReviewHeaderForm(forms.Form):
    """The review's meeting date and number of voters, posted with the rows."""

    meeting_date = forms.DateField(label=_("评议日期"), required=False, widget=DATE,
                                   error_messages={"invalid": _("请输入有效日期，例如 2026-01-15。")})
    voters = forms.IntegerField(label=_("参加测评人数"), required=False, min_value=0, max_value=100_000,
                                error_messages={"invalid": _("请输入整数。"), "min_value": _("不能小于 0。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


GRADE_CHOICES = [("", _("（未评定）")), *[(g.value, g.label) for g in Grade]]
ROW_FIELDS = (*VOTE_FIELDS, "final_grade", "reason", "candidate")


def row_name(appraisal_id: int, field: str) -> str:
    return f"r{appraisal_id}-{field}"


def rows_from_post(post, appraisal_ids) -> dict[int, dict]:
    """The typed values of each member's row, as posted (strings; the service checks them)."""
    rows = {}
    for pk in appraisal_ids:
        rows[pk] = {f: post.get(row_name(pk, f), "").strip() for f in ROW_FIELDS if f != "candidate"}
        rows[pk]["candidate"] = post.get(row_name(pk, "candidate")) in ("on", "1", "true")
    return rows
