"""组织类型 (三类) as data: production, management and business are seeded; a top-level committee's staff may
add types, rename them and switch them off. Types are shared by the whole tree, so only those who manage a
top-level organization may change them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.access import allowed_paths, can
from dangjian.core.audit import log_action, snapshot
from dangjian.core.views import require_capability
from dangjian.orgs.models import OrgType


def can_manage_types(user) -> bool:
    paths = allowed_paths(user, "org.manage")
    return paths is None or any(p.count(".") == 1 for p in paths)


class OrgTypeForm(forms.ModelForm):
    class Meta:
        model = OrgType
        fields = ["code", "name", "order", "active"]
        help_texts = {"code": gettext_lazy("英文字母、数字或下划线，用于导入和接口，创建后不宜修改。")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-check-input" if isinstance(f.widget, forms.CheckboxInput)
                                      else "form-control")

    def clean_code(self):
        import re

        code = self.cleaned_data["code"].strip()
        if not re.fullmatch(r"[A-Za-z0-9_]{2,20}", code):
            raise forms.ValidationError(_("编码只能包含英文字母、数字和下划线，长度2至20位。"))
        return code


@login_required
def type_list(request):
    require_capability(request.user, "org.view")
    types = OrgType.objects.annotate(n_orgs=Count("organization"))
    return render(request, "orgs/type_list.html", {"types": types, "can_edit": can_manage_types(request.user)})


@login_required
def type_edit(request, pk=None):
    if not can_manage_types(request.user):
        raise Http404
    instance = get_object_or_404(OrgType, pk=pk) if pk else None
    before = snapshot(instance, ["code", "name", "order", "active"]) if instance else None
    form = OrgTypeForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            obj = form.save()
            log_action(request.user, "orgtype.saved", obj, before=before,
                       after=snapshot(obj, ["code", "name", "order", "active"]))
        messages.success(request, _("已保存组织类型“{name}”。").format(name=obj.name))
        return redirect("orgs:type_list")
    title = _("修改组织类型") if instance else _("新增组织类型")
    return render(request, "orgs/form.html", {"form": form, "title": title})


__all__ = ["type_list", "type_edit", "can"]
