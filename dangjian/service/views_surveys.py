"""Pages of the satisfaction surveys: the list, the builder (settings, questions, open/close), links with their QR
codes and printable sheets, invitation codes, the results with their Excel export, the index table, and the
public response page (no login, by the link's key).

Thin: parse, fetch through core.access (an outsider gets 404), call service.surveys, render. A survey is visible
to whoever may see its owner, and to the secretaries of the organizations it has links for (they see their own
organizations' results only: every figure is computed from responses read through ``scope``).
"""

import functools
import operator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core import public
from dangjian.core.access import allowed_paths, can, get_scoped_or_404, scope
from dangjian.core.dates import month_start
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Organization
from dangjian.service import forms_surveys as forms
from dangjian.service import surveys as services
from dangjian.service.models import (
    SCALE_LEVELS,
    Answer,
    QKind,
    Question,
    SatisfactionIndex,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyLink,
    SurveyResponse,
    SurveyState,
)
from dangjian.service.survey_templates import TEMPLATES

TEXT_ANSWERS_SHOWN = 100
INVITATIONS_SHOWN = 500


def _visible(request, pk) -> Survey:
    try:
        return services.visible_surveys(request.user).select_related("owner").get(pk=pk)
    except (Survey.DoesNotExist, ValueError) as exc:
        raise Http404(_("页面不存在，或您无权访问。")) from exc


def _managed(request, pk) -> Survey:
    return get_scoped_or_404(request.user, "survey.manage", Survey.objects.select_related("owner"), pk=pk)


def _question(request, pk) -> Question:
    return get_scoped_or_404(request.user, "survey.manage", Question.objects.select_related("survey__owner"), pk=pk)


def _link(request, pk) -> SurveyLink:
    link = get_scoped_or_404(request.user, "survey.view", SurveyLink.objects.select_related("survey__owner", "org",
                                                                                           "area"), pk=pk)
    if not can(request.user, "survey.manage", link.survey.owner.path):
        raise Http404(_("页面不存在，或您无权访问。"))
    return link


def _link_url(request, link: SurveyLink, token: str = "") -> str:
    url = public.public_url(request, "service:survey_public", link.key)
    return f"{url}?t={token}" if token else url


# ---- list, create, edit -----------------------------------------------------------------------------------------


@login_required
def survey_list(request):
    user = request.user
    require_capability(user, "survey.view")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "kind", "state")}
    # The counts too are of the user's organizations only: a secretary sees their own branch's responses.
    paths = allowed_paths(user, "survey.view")
    in_scope = {"responses": None, "links": None}
    if paths is not None:  # require_capability above: at least one path
        for rel in in_scope:
            in_scope[rel] = functools.reduce(operator.or_, (Q(**{f"{rel}__org__path__startswith": p}) for p in paths))
    qs = (services.visible_surveys(user).select_related("owner")
          .annotate(n_responses=Count("responses", distinct=True, filter=in_scope["responses"]),
                    n_links=Count("links", distinct=True, filter=in_scope["links"]))
          .order_by("-created_at", "-id"))
    if f["q"]:
        qs = qs.filter(title__contains=f["q"])
    if f["kind"] in SurveyKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["state"] in SurveyState.values:
        qs = qs.filter(state=f["state"])
    if wants_xlsx(request):
        rows = ((s.title, str(s.get_kind_display()), s.owner.name, str(s.get_state_display()), s.threshold,
                 s.n_links, s.n_responses, s.opens_on, s.closes_on) for s in qs.iterator(chunk_size=2000))
        header = [_("问卷名称"), _("类型"), _("发起单位"), _("状态"), _("预警线"), _("链接数"), _("答卷数"),
                  _("开始日期"), _("结束日期")]
        return export_xlsx(request, gettext_noop("满意度调查"), header, rows, what=gettext_noop("满意度调查"))
    page, query = paginate(request, qs)
    return render(request, "service/surveys/list.html", {
        "page": page, "query": query, "f": f, "kinds": SurveyKind.choices, "states": SurveyState.choices,
        "can_manage": can(user, "survey.manage"),
    })


@login_required
@deny_as_404
def survey_create(request):
    user = request.user
    require_capability(user, "survey.manage")
    form = forms.SurveyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            survey = services.create_survey(user, d["owner"], title=d["title"], kind=d["kind"], intro=d["intro"],
                                            threshold=d["threshold"], min_responses=d["min_responses"],
                                            one_per_invitation=d["one_per_invitation"], opens_on=d["opens_on"],
                                            closes_on=d["closes_on"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("问卷已创建，请添加题目。"))
            return redirect("service:survey_detail", survey.pk)
    return render(request, "service/surveys/form.html", {"form": form, "survey": None})


@login_required
@deny_as_404
def survey_from_template(request):
    user = request.user
    require_capability(user, "survey.manage")
    form = forms.TemplateForm(request.POST or None, user=user, initial={"template": "customer"})
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.create_from_template(user, form.cleaned_data["owner"], form.cleaned_data["template"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已按模板创建问卷草稿，可修改题目后开始调查。"))
            return redirect("service:survey_detail", survey.pk)
    previews = [(key, _(t["name"]), t) for key, t in TEMPLATES.items()]
    return render(request, "service/surveys/templates.html", {"form": form, "previews": previews})


@login_required
@deny_as_404
def survey_edit(request, pk):
    survey = _managed(request, pk)
    form = forms.SurveyForm(request.POST or None, instance=survey, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {k: d[k] for k in services.SURVEY_FIELDS if k in d and not form.fields[k].disabled}
        try:
            services.update_survey(request.user, survey, **changes)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("问卷设置已保存。"))
            return redirect("service:survey_detail", survey.pk)
    return render(request, "service/surveys/form.html", {"form": form, "survey": survey})


@login_required
@require_POST
@deny_as_404
def survey_delete(request, pk):
    survey = _managed(request, pk)
    try:
        services.delete_survey(request.user, survey)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("service:survey_detail", survey.pk)
    messages.success(request, _("问卷草稿已删除。"))
    return redirect("service:survey_list")


@login_required
@require_POST
@deny_as_404
def survey_state(request, pk):
    survey = _managed(request, pk)
    action = request.POST.get("action", "")
    ops = {"open": (services.open_survey, _("调查已开始，题目不能再修改。请打印二维码张贴或发放。")),
           "close": (services.close_survey, _("调查已结束，满意度指数已重新计算。"))}
    if action not in ops:
        messages.error(request, _("无效的操作。"))
    else:
        func, done = ops[action]
        try:
            func(request.user, survey)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
    return redirect("service:survey_detail", survey.pk)


@login_required
def survey_detail(request, pk):
    user = request.user
    survey = _visible(request, pk)
    manage = can(user, "survey.manage", survey.owner.path)
    questions = list(survey.questions.order_by("order", "id"))
    links = scope(user, "survey.view", survey.links.all())
    counts = links.aggregate(n=Count("id"), enabled=Count("id", filter=Q(enabled=True)))
    responses = scope(user, "survey.view", SurveyResponse.objects.filter(survey=survey)).count()
    return render(request, "service/surveys/detail.html", {
        "survey": survey, "questions": questions, "manage": manage, "draft": survey.state == SurveyState.DRAFT,
        "links": counts, "responses": responses, "scale_labels": services.scale_labels(),
        "question_form": forms.QuestionForm() if manage and survey.state == SurveyState.DRAFT else None,
    })


# ---- questions --------------------------------------------------------------------------------------------------


def _question_args(d) -> dict:
    return {"kind": d["kind"], "text": d["text"], "required": d["required"], "options": d["options"],
            "topic": d["topic"]}


@login_required
@deny_as_404
def survey_question_add(request, pk):
    survey = _managed(request, pk)
    form = forms.QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_question(request.user, survey, **_question_args(form.cleaned_data))
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("题目已添加。"))
            return redirect("service:survey_detail", survey.pk)
    return render(request, "service/surveys/question_form.html", {"form": form, "survey": survey, "question": None})


@login_required
@deny_as_404
def survey_question_edit(request, pk):
    question = _question(request, pk)
    survey = question.survey
    initial = {"kind": question.kind, "text": question.text, "required": question.required,
               "options": "\n".join(question.options), "topic": question.topic}
    form = forms.QuestionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_question(request.user, question, **_question_args(form.cleaned_data))
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("题目已保存。"))
            return redirect("service:survey_detail", survey.pk)
    return render(request, "service/surveys/question_form.html", {"form": form, "survey": survey,
                                                                   "question": question})


@login_required
@require_POST
@deny_as_404
def survey_question_delete(request, pk):
    question = _question(request, pk)
    try:
        services.delete_question(request.user, question)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("题目已删除。"))
    return redirect("service:survey_detail", question.survey_id)


@login_required
@require_POST
@deny_as_404
def survey_question_move(request, pk):
    question = _question(request, pk)
    try:
        services.move_question(request.user, question, request.POST.get("direction", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("service:survey_detail", question.survey_id)


# ---- links and invitations --------------------------------------------------------------------------------------


@login_required
@deny_as_404
def survey_links(request, pk):
    user = request.user
    survey = _visible(request, pk)
    manage = can(user, "survey.manage", survey.owner.path)
    form = forms.LinkForm(request.POST or None, survey=survey) if manage else None
    if request.method == "POST":
        if not manage:
            raise Http404
        if form.is_valid():
            try:
                created = services.add_links(user, survey, orgs=form.picked_orgs(),
                                             areas=list(form.cleaned_data["areas"]))
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("已新增{n}个调查链接。").format(n=len(created)) if created
                                 else _("所选单位都已有调查链接，未新增。"))
                return redirect("service:survey_links", survey.pk)
    links = (scope(user, "survey.view", survey.links.select_related("org", "area"))
             .annotate(n_responses=Count("responses", distinct=True),
                       n_invitations=Count("invitations", distinct=True),
                       n_used=Count("invitations", filter=Q(invitations__used_at__isnull=False), distinct=True))
             .order_by("org__path", "area__name"))
    page, query = paginate(request, links, 50)
    for link in page:
        link.url = _link_url(request, link)
        link.qr = public.qr_svg(link.url, "survey-qr") if link.enabled else None
    return render(request, "service/surveys/links.html", {"survey": survey, "page": page, "query": query,
                                                           "form": form, "manage": manage})


@login_required
def survey_link_sheet(request, pk):
    """A printable sheet: one QR code per enabled link, with the organization's name."""
    user = request.user
    survey = _visible(request, pk)
    links = list(scope(user, "survey.view", survey.links.filter(enabled=True).select_related("org", "area"))
                 .order_by("org__path", "area__name")[:200])
    for link in links:
        link.url = _link_url(request, link)
        link.qr = public.qr_svg(link.url, "survey-qr-print")
    return render(request, "service/surveys/link_sheet.html", {"survey": survey, "links": links})


@login_required
@require_POST
@deny_as_404
def survey_link_toggle(request, pk):
    link = _link(request, pk)
    enable = request.POST.get("enabled") == "1"
    services.set_link_enabled(request.user, link, enable)
    messages.success(request, _("链接已启用。") if enable else _("链接已停用，原二维码暂停使用。"))
    return redirect("service:survey_links", link.survey_id)


@login_required
@deny_as_404
def survey_invitations(request, pk):
    """The link's invitation codes (each a QR code with ?t=…), printable; staff generate more in batches."""
    link = _link(request, pk)
    form = forms.InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_invitations(request.user, link, form.cleaned_data["count"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已生成{n}个邀请码。").format(n=len(created)))
            return redirect("service:survey_invitations", link.pk)
    show = request.GET.get("show", "unused")
    qs = SurveyInvitation.objects.filter(link=link).order_by("id")
    if show == "unused":
        qs = qs.filter(used_at__isnull=True)
    invitations = list(qs[:INVITATIONS_SHOWN])
    for inv in invitations:
        inv.url = _link_url(request, link, inv.token)
        inv.qr = public.qr_svg(inv.url, "survey-qr-print") if inv.used_at is None else None
    stats = SurveyInvitation.objects.filter(link=link).aggregate(n=Count("id"), used=Count("used_at"))
    return render(request, "service/surveys/invitations.html", {"link": link, "survey": link.survey, "form": form,
                                                                 "invitations": invitations, "stats": stats,
                                                                 "show": show})


# ---- results and indices ----------------------------------------------------------------------------------------


def _safe_cell(text: str) -> str:
    """Text typed by the public, made inert for spreadsheets: a leading = + - @ would start a formula."""
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def _responses_xlsx(request, survey: Survey, responses):
    """One row per response, one column per question; no client hash (the responses are anonymous)."""
    questions = list(survey.questions.order_by("order", "id"))
    header = [_("提交时间"), _("月份"), _("被评价单位"), _("服务区域"), _("得分")] + [
        f"{q.order}. {q.text}" for q in questions]

    def rows():
        qs = responses.select_related("org", "area").order_by("submitted_at", "id")
        for chunk_start in range(0, qs.count(), 1000):
            chunk = list(qs[chunk_start:chunk_start + 1000])
            answers: dict[int, dict[int, Answer]] = {}
            for a in Answer.objects.filter(response__in=[r.pk for r in chunk]):
                answers.setdefault(a.response_id, {})[a.question_id] = a
            for r in chunk:
                mine = answers.get(r.pk, {})
                yield [r.submitted_at, f"{r.month:%Y-%m}", r.org.name, r.area.name if r.area else "", r.score] + [
                    _safe_cell(services.answer_text(q, mine.get(q.pk))) for q in questions]

    return export_xlsx(request, gettext_noop("满意度调查答卷"), header, rows(), what=gettext_noop("满意度调查答卷"))


@login_required
def survey_results(request, pk):
    user = request.user
    survey = _visible(request, pk)
    responses = scope(user, "survey.view", SurveyResponse.objects.filter(survey=survey))
    months = list(responses.values_list("month", flat=True).distinct().order_by("-month"))
    month = None
    if request.GET.get("month"):
        try:
            month = month_start(request.GET["month"])
        except DomainError:
            messages.error(request, _("月份格式应为 YYYY-MM，例如 2026-10。"))
        else:
            responses = responses.filter(month=month)
    if wants_xlsx(request):
        return _responses_xlsx(request, survey, responses)
    texts = (Answer.objects.filter(response__in=responses.values("pk"), question__kind=QKind.TEXT)
             .exclude(text="").select_related("question", "response__org").order_by("-response__submitted_at", "-id"))
    return render(request, "service/surveys/results.html", {
        "survey": survey, "months": months, "month": month, "total": responses.count(),
        "orgs": services.org_results(responses), "questions": services.question_results(survey, responses),
        "topics": services.topic_means(responses), "texts": list(texts[:TEXT_ANSWERS_SHOWN]),
        "manage": can(user, "survey.manage", survey.owner.path), "scale_len": len(SCALE_LEVELS),
    })


@login_required
@require_POST
@deny_as_404
def survey_recompute(request, pk):
    survey = _managed(request, pk)
    written, opened = services.recompute_survey(request.user, survey)
    messages.success(request, _("已重新计算{n}条满意度指数，新生成{m}张整改工单。").format(n=written, m=opened))
    return redirect("service:survey_results", survey.pk)


@login_required
def survey_indices(request):
    """The org × month table of the satisfaction indices the user may see, with its Excel export."""
    user = request.user
    require_capability(user, "survey.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "kind", "month_from", "month_to", "low")}
    qs = (scope(user, "survey.view", SatisfactionIndex.objects.select_related("org", "ticket"))
          .order_by("-month", "org__path", "kind"))
    if f["org"].isdigit():
        org = get_scoped_or_404(user, "survey.view", Organization.objects.all(), pk=int(f["org"]))
        qs = qs.filter(org__path__startswith=org.path)
    if f["kind"] in SurveyKind.values:
        qs = qs.filter(kind=f["kind"])
    for key, lookup in (("month_from", "month__gte"), ("month_to", "month__lte")):
        if f[key]:
            try:
                qs = qs.filter(**{lookup: month_start(f[key])})
            except DomainError:
                messages.error(request, _("月份格式应为 YYYY-MM，例如 2026-10。"))
                f[key] = ""
    if f["low"] == "1":
        qs = qs.filter(mean_score__lt=F("threshold"))
    if wants_xlsx(request):
        rows = ((f"{ix.month:%Y-%m}", ix.org.name, str(ix.get_kind_display()), ix.responses, ix.mean_score,
                 ix.share_satisfied, ix.threshold, ix.ticket.number if getattr(ix, "ticket", None) else "")
                for ix in qs.iterator(chunk_size=2000))
        header = [_("月份"), _("单位"), _("类型"), _("样本数"), _("满意度指数"), _("满意率（%）"), _("预警线"),
                  _("整改工单")]
        return export_xlsx(request, gettext_noop("满意度指数"), header, rows, what=gettext_noop("满意度指数"))
    page, query = paginate(request, qs, 50)
    orgs = scope(user, "survey.view", Organization.objects.filter(archived=False)).order_by("path")[:300]
    return render(request, "service/surveys/indices.html", {
        "page": page, "query": query, "f": f, "kinds": SurveyKind.choices, "orgs": orgs,
    })


# ---- the public page (no login) ---------------------------------------------------------------------------------


def _public_context(link, form, questions, *, picked=None, errors=None, error=""):
    picked = picked or {}
    rows = []
    for q in questions:
        values = picked.get(q.pk, [])
        if q.kind == QKind.SCALE:
            options = [(str(i), _(label)) for i, (label, _s) in enumerate(SCALE_LEVELS)]
        else:
            options = [(str(i), o) for i, o in enumerate(q.options)]
        rows.append({"q": q, "name": f"q_{q.pk}", "options": options, "values": values,
                     "text": values[0] if q.kind == QKind.TEXT and values else "",
                     "error": (errors or {}).get(f"q_{q.pk}", "")})
    return {"link": link, "survey": link.survey, "form": form, "rows": rows, "error": error,
            "text_max": services.TEXT_ANSWER_MAX}


def _raw_answers(post) -> dict[int, list[str]]:
    """The posted answers by question id; a malformed key makes the whole post invalid."""
    out: dict[int, list[str]] = {}
    for key in post:
        if not key.startswith("q_"):
            continue
        qid = key[2:]
        if not qid.isascii() or not qid.isdigit() or len(qid) > 10:
            raise DomainError(_("问卷内容已更新，请刷新页面后重新填写。"))
        out[int(qid)] = post.getlist(key)
    return out


def survey_public(request, key):
    link = services.public_link_for(key)
    survey = link.survey
    if not services.accepting(survey):
        return render(request, "service/public_survey/closed.html", {"link": link, "survey": survey})
    questions = list(survey.questions.order_by("order", "id"))
    token = request.GET.get("t", "")[:services.TOKEN_MAX]
    if request.method != "POST":
        if survey.one_per_invitation and not token:
            return render(request, "service/public_survey/closed.html",
                          {"link": link, "survey": survey, "need_token": True})
        form = forms.ResponseGuardForm(public_key=key, initial={"t": token})
        return render(request, "service/public_survey/form.html", _public_context(link, form, questions))
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = public.MAX_PUBLIC_BODY + 1
    if size > public.MAX_PUBLIC_BODY:
        form = forms.ResponseGuardForm(public_key=key, initial={"t": token})
        return render(request, "service/public_survey/form.html",
                      _public_context(link, form, questions, error=_("提交的内容过长，请精简后再提交。")), status=413)
    form = forms.ResponseGuardForm(request.POST, public_key=key)
    status, errors, error, raw = 400, {}, "", {}
    try:
        raw = _raw_answers(request.POST)
    except DomainError as exc:
        error = exc.message
    if not error and form.is_valid():
        try:
            services.submit_response(key, answers=raw, token=str(form.cleaned_data.get("t") or ""),
                                     client=services.client_hash(request), request=request)
        except services.RateLimited as exc:
            error, status = exc.message, 429
        except services.AnswersInvalid as exc:
            errors, error = exc.errors, _("有题目未作答或答案无效，请检查标红的题目。")
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("service:survey_public_thanks", key)
    # A fresh token: the next try waits its own few seconds, not the first form's.
    form.data = form.data.copy()
    form.data["ts"] = form.fresh_token()
    return render(request, "service/public_survey/form.html",
                  _public_context(link, form, questions, picked=raw, errors=errors, error=error), status=status)


def survey_public_thanks(request, key):
    link = services.public_link_for(key)
    return render(request, "service/public_survey/thanks.html", {"link": link, "survey": link.survey})

