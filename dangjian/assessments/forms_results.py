"""Form of the adjustment of a finalized result (兑现后调整). It only parses: the range of the new total, "not the
same as before" and the month's state are checked by ``close.adjust_result``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.assessments.forms import style


class AdjustForm(forms.Form):
    new_total = forms.CharField(
        label=_("调整后得分"), max_length=10, error_messages={"required": _("请填写调整后的得分。")},
        help_text=_("0 至满分之间，最多一位小数。"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.CharField(
        label=_("调整理由"), max_length=500, error_messages={"required": _("请填写调整理由。")},
        help_text=_("不超过500字，将记入审计日志，并在结果页和组织考评页展示。"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}))
    confirm = forms.BooleanField(
        label=_("我已核实：调整后将重新计算本月全部组织的排名、等级和兑现系数"),
        error_messages={"required": _("请勾选确认后再提交调整。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)
