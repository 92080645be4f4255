"""Satisfaction surveys: the questionnaire builder, anonymous links and invitation codes, the public response, and
the monthly satisfaction indices that open an improvement ticket by themselves.

- A ``Survey`` is owned by an organization (usually the committee); whoever holds ``survey.manage`` there builds
  it. Its questions change only while it is a draft; opening it (at least one scale question) freezes them; a
  closed survey takes no more responses.
- ``SurveyLink``: one anonymous link (and QR code) per organization or service area in the owner's subtree. Where
  the survey is ``one_per_invitation``, each response needs an unused ``SurveyInvitation`` token (``?t=``), and the
  invitation row is locked while it is used, so a token answers once however many servers race.
- ``submit_response`` checks every answer against its question (scale level, option index, text without links or
  NUL), the rate limits (per client an hour, per link a day; counted in the database under the link's row lock and
  the client's lock) and stores the response with its answers, or nothing.
- After each response the index of the link's organization and month is brought up to date; the indices, the
  tickets of low ones and the results' figures live in service.survey_indices (re-exported here).
"""

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core import public
from dangjian.core.access import require, scope
from dangjian.core.audit import log_action
from dangjian.core.dates import month_start
from dangjian.core.errors import DomainError, actor
from dangjian.core.public import RateLimited, client_hash  # noqa: F401 (used by the views)
from dangjian.orgs.models import Organization
from dangjian.service.common import new_key
from dangjian.service.models import (
    SCALE_LEVELS,
    Answer,
    QKind,
    Question,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyLink,
    SurveyResponse,
    SurveyState,
)
from dangjian.service.survey_indices import (  # noqa: F401 (one import for the views, API and command)
    answer_text,
    compute_indices,
    mean_of,
    month_label,
    open_low_tickets,
    org_results,
    question_results,
    recompute_survey,
    refresh,
    refresh_survey,
    round1,
    scale_labels,
    tenths,
    topic_means,
)
from dangjian.service.survey_templates import TEMPLATES

logger = logging.getLogger(__name__)

PER_CLIENT_HOUR = 5  # responses one client may send in an hour (all links)
PER_LINK_DAY = 300  # responses one link takes in a day
TEXT_ANSWER_MAX = 500
QUESTIONS_MAX = 40
OPTIONS_MAX = 20
OPTION_LEN = 40
INVITATIONS_MAX = 500  # per batch
TITLE_MAX, INTRO_MAX, QUESTION_MAX, TOPIC_MAX = 100, 1000, 200, 20
TOKEN_MAX = 64

SURVEY_FIELDS = ("title", "kind", "intro", "threshold", "min_responses", "one_per_invitation", "opens_on",
                 "closes_on")
# Settings a survey may still change once open (its questions and how it is answered are fixed by then).
OPEN_EDITABLE = {"title", "intro", "threshold", "min_responses", "closes_on"}


def visible_surveys(user):
    """Surveys the user may see: owned in their scope, or with a link for an organization in their scope (a
    secretary sees the committee's survey about their branch, and only their branch's responses)."""
    links = scope(user, "survey.view", SurveyLink.objects.filter(survey=OuterRef("pk")))
    owned = scope(user, "survey.view", Survey.objects.all()).values("pk")
    return Survey.objects.filter(Q(pk__in=owned) | Exists(links))


# ---- the builder --------------------------------------------------------------------------------------------------


def _lock(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().select_related("owner").get(pk=survey.pk)


def _check_settings(data: dict) -> dict:
    """The survey's settings, checked; raises DomainError on the first bad one."""
    out = dict(data)
    if "title" in out:
        out["title"] = (out["title"] or "").strip()
        if not out["title"]:
            raise DomainError(_("请填写问卷名称。"), "title")
        if len(out["title"]) > TITLE_MAX:
            raise DomainError(_("问卷名称不能超过{n}个字。").format(n=TITLE_MAX), "title")
    if "kind" in out and out["kind"] not in SurveyKind.values:
        raise DomainError(_("请选择问卷类型（政府满意度或客户满意度）。"), "kind")
    if "intro" in out:
        out["intro"] = (out["intro"] or "").strip()
        if len(out["intro"]) > INTRO_MAX:
            raise DomainError(_("卷首语不能超过{n}个字。").format(n=INTRO_MAX), "intro")
    if "threshold" in out:
        try:
            threshold = round1(out["threshold"])
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise DomainError(_("预警线应为0–100之间的数。"), "threshold") from exc
        if threshold is None or not (0 <= threshold <= 100):
            raise DomainError(_("预警线应为0–100之间的数。"), "threshold")
        out["threshold"] = threshold
    if "min_responses" in out:
        try:
            n = int(out["min_responses"])
        except (ValueError, TypeError) as exc:
            raise DomainError(_("预警最少样本数应为1–1000之间的整数。"), "min_responses") from exc
        if not (1 <= n <= 1000):
            raise DomainError(_("预警最少样本数应为1–1000之间的整数。"), "min_responses")
        out["min_responses"] = n
    if "one_per_invitation" in out:
        out["one_per_invitation"] = bool(out["one_per_invitation"])
    return out


def _check_dates(opens_on, closes_on) -> None:
    if opens_on and closes_on and closes_on < opens_on:
        raise DomainError(_("结束日期不能早于开始日期。"), "closes_on")


@transaction.atomic
def create_survey(user, owner: Organization, *, title: str, kind: str = SurveyKind.CUSTOMER, intro: str = "",
                  threshold=Decimal("80"), min_responses: int = 5, one_per_invitation: bool = False,
                  opens_on: datetime.date | None = None, closes_on: datetime.date | None = None) -> Survey:
    require(user, "survey.manage", owner.path)
    if owner.archived:
        raise DomainError(_("该组织已撤销，不能发起调查。"), "owner")
    data = _check_settings({"title": title, "kind": kind, "intro": intro, "threshold": threshold,
                            "min_responses": min_responses, "one_per_invitation": one_per_invitation})
    _check_dates(opens_on, closes_on)
    survey = Survey.objects.create(owner=owner, opens_on=opens_on, closes_on=closes_on, created_by=actor(user),
                                   **data)
    log_action(user, "survey.created", survey, org_path=owner.path, title=survey.title, kind=survey.kind)
    return survey


@transaction.atomic
def update_survey(user, survey: Survey, **changes) -> Survey:
    """Change the settings. A draft changes anything; an open survey its title, intro, threshold, minimum sample
    and end date; a closed survey nothing."""
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    unknown = set(changes) - set(SURVEY_FIELDS)
    if unknown:
        raise DomainError(_("无法修改的字段：{names}。").format(names="、".join(sorted(unknown))))
    if survey.state == SurveyState.CLOSED:
        raise DomainError(_("调查已结束，不能再修改。"))
    changes = {k: v for k, v in changes.items() if getattr(survey, k) != v}
    if survey.state == SurveyState.OPEN:
        fixed = set(changes) - OPEN_EDITABLE
        if fixed:
            raise DomainError(_("调查已开始，问卷类型和“每个邀请码限答一次”不能再修改。"), sorted(fixed)[0])
    data = _check_settings(changes)
    _check_dates(data.get("opens_on", survey.opens_on), data.get("closes_on", survey.closes_on))
    before = {k: getattr(survey, k) for k in data}
    for k, v in data.items():
        setattr(survey, k, v)
    if data:
        survey.save(update_fields=list(data))
        log_action(user, "survey.updated", survey, org_path=survey.owner.path, before=before, after=data)
    return survey


@transaction.atomic
def delete_survey(user, survey: Survey) -> None:
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    if survey.state != SurveyState.DRAFT or survey.responses.exists():
        raise DomainError(_("只能删除尚未开始的问卷草稿。"))
    log_action(user, "survey.deleted", survey, org_path=survey.owner.path, title=survey.title)
    survey.delete()


def _clean_question(kind: str, text: str, options, topic: str) -> tuple[str, str, list[str], str]:
    if kind not in QKind.values:
        raise DomainError(_("请选择题型。"), "kind")
    text = (text or "").strip()
    if not text:
        raise DomainError(_("请填写题目。"), "text")
    if len(text) > QUESTION_MAX:
        raise DomainError(_("题目不能超过{n}个字。").format(n=QUESTION_MAX), "text")
    topic = (topic or "").strip()
    if len(topic) > TOPIC_MAX:
        raise DomainError(_("关注方面不能超过{n}个字。").format(n=TOPIC_MAX), "topic")
    if isinstance(options, str):
        options = options.splitlines()
    opts = [str(o).strip() for o in (options or []) if str(o).strip()]
    if kind in (QKind.CHOICE, QKind.MULTI):
        if len(opts) < 2:
            raise DomainError(_("单选题和多选题至少需要两个选项（每行一个）。"), "options")
        if len(opts) > OPTIONS_MAX:
            raise DomainError(_("选项不能超过{n}个。").format(n=OPTIONS_MAX), "options")
        if any(len(o) > OPTION_LEN for o in opts):
            raise DomainError(_("每个选项不能超过{n}个字。").format(n=OPTION_LEN), "options")
        if len(set(opts)) != len(opts):
            raise DomainError(_("选项不能重复。"), "options")
    else:
        opts = []  # a scale uses the five levels; a text question has none
    if kind != QKind.SCALE:
        topic = ""
    return kind, text, opts, topic


def _draft(survey: Survey) -> None:
    if survey.state != SurveyState.DRAFT:
        raise DomainError(_("调查已开始，题目不能再修改。"))


@transaction.atomic
def add_question(user, survey: Survey, *, kind: str, text: str, required: bool = True, options=None,
                 topic: str = "") -> Question:
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    _draft(survey)
    kind, text, opts, topic = _clean_question(kind, text, options, topic)
    agg = survey.questions.aggregate(n=Count("id"), last=Max("order"))
    if agg["n"] >= QUESTIONS_MAX:
        raise DomainError(_("一份问卷最多{n}道题。").format(n=QUESTIONS_MAX))
    q = Question.objects.create(survey=survey, order=(agg["last"] or 0) + 1, kind=kind, text=text,
                                required=bool(required), options=opts, topic=topic)
    log_action(user, "survey.question_added", q, org_path=survey.owner.path, survey=survey.pk, text=text, kind=kind)
    return q


@transaction.atomic
def update_question(user, question: Question, *, kind: str, text: str, required: bool = True, options=None,
                    topic: str = "") -> Question:
    survey = question.survey
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    _draft(survey)
    kind, text, opts, topic = _clean_question(kind, text, options, topic)
    question = Question.objects.get(pk=question.pk)
    before = {"kind": question.kind, "text": question.text, "required": question.required,
              "options": question.options, "topic": question.topic}
    question.kind, question.text, question.required, question.options, question.topic = (
        kind, text, bool(required), opts, topic)
    question.save(update_fields=["kind", "text", "required", "options", "topic"])
    log_action(user, "survey.question_updated", question, org_path=survey.owner.path, before=before,
               after={"kind": kind, "text": text, "required": bool(required), "options": opts, "topic": topic})
    return question


def _renumber(survey: Survey, ids: list[int]) -> None:
    questions = {q.pk: q for q in survey.questions.all()}
    changed = []
    for i, pk in enumerate(ids, 1):
        q = questions[pk]
        if q.order != i:
            q.order = i
            changed.append(q)
    Question.objects.bulk_update(changed, ["order"])


@transaction.atomic
def delete_question(user, question: Question) -> None:
    survey = question.survey
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    _draft(survey)
    log_action(user, "survey.question_deleted", question, org_path=survey.owner.path, survey=survey.pk,
               text=question.text)
    question.delete()
    _renumber(survey, list(survey.questions.order_by("order", "id").values_list("pk", flat=True)))


@transaction.atomic
def reorder_questions(user, survey: Survey, ids: list[int]) -> None:
    """Put the questions in the order of ``ids`` (every question of the survey, once)."""
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    _draft(survey)
    current = list(survey.questions.order_by("order", "id").values_list("pk", flat=True))
    if sorted(ids) != sorted(current) or len(set(ids)) != len(ids):
        raise DomainError(_("题目顺序须包含本问卷的全部题目，且每题一次。"), "ids")
    _renumber(survey, list(ids))
    log_action(user, "survey.questions_reordered", survey, org_path=survey.owner.path, order=list(ids))


def move_question(user, question: Question, direction: str) -> None:
    """One place up or down."""
    if direction not in ("up", "down"):
        raise DomainError(_("无效的操作。"))
    ids = list(question.survey.questions.order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(question.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        reorder_questions(user, question.survey, ids)


@transaction.atomic
def create_from_template(user, owner: Organization, key: str, *, title: str | None = None) -> Survey:
    """A draft with the shipped template's settings and questions."""
    template = TEMPLATES.get(key)
    if template is None:
        raise DomainError(_("请选择问卷模板。"), "template")
    survey = create_survey(user, owner, title=title or template["title"], kind=template["kind"],
                           intro=template["intro"], threshold=template["threshold"])
    Question.objects.bulk_create([
        Question(survey=survey, order=i, kind=kind, text=text, required=required, options=list(options), topic=topic)
        for i, (kind, text, required, options, topic) in enumerate(template["questions"], 1)
    ])
    log_action(user, "survey.question_added", survey, org_path=owner.path, template=key,
               count=len(template["questions"]))
    return survey


@transaction.atomic
def open_survey(user, survey: Survey) -> Survey:
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    if survey.state != SurveyState.DRAFT:
        raise DomainError(_("只有草稿状态的问卷可以开始调查。"))
    if not survey.questions.filter(kind=QKind.SCALE).exists():
        raise DomainError(_("问卷至少需要一道满意度量表题，才能计算满意度指数。"))
    survey.state = SurveyState.OPEN
    survey.save(update_fields=["state"])
    log_action(user, "survey.opened", survey, org_path=survey.owner.path)
    return survey


def close_survey(user, survey: Survey) -> Survey:
    """Stop taking responses; the indices of the months it was answered in are recomputed and low ones open
    their tickets."""
    with transaction.atomic():
        require(user, "survey.manage", survey.owner.path)
        survey = _lock(survey)
        if survey.state != SurveyState.OPEN:
            raise DomainError(_("只有收集中的问卷可以结束调查。"))
        survey.state = SurveyState.CLOSED
        survey.save(update_fields=["state"])
        log_action(user, "survey.closed", survey, org_path=survey.owner.path)
    refresh_survey(survey)
    return survey


# ---- links and invitations --------------------------------------------------------------------------------------


def _in_owner_subtree(survey: Survey, org: Organization) -> bool:
    return org.path.startswith(survey.owner.path)


@transaction.atomic
def add_links(user, survey: Survey, *, orgs=(), areas=()) -> list[SurveyLink]:
    """Links for the organizations and areas (of the owner's subtree) that have none yet; returns the new ones."""
    require(user, "survey.manage", survey.owner.path)
    survey = _lock(survey)
    if survey.state == SurveyState.CLOSED:
        raise DomainError(_("调查已结束，不能再添加链接。"))
    orgs, areas = list(orgs), list(areas)
    if not orgs and not areas:
        raise DomainError(_("请至少选择一个被评价单位或服务区域。"), "orgs")
    for org in orgs:
        if not _in_owner_subtree(survey, org) or org.archived:
            raise DomainError(_("“{name}”不在本问卷发起单位的范围内，或已撤销。").format(name=org.name), "orgs")
    for area in areas:
        if not _in_owner_subtree(survey, area.org) or area.archived:
            raise DomainError(_("服务区域“{name}”不在本问卷发起单位的范围内，或已停用。").format(name=area.name),
                              "areas")
    existing = set(survey.links.values_list("org_id", "area_id"))
    wanted = [(o.pk, None) for o in orgs] + [(a.org_id, a.pk) for a in areas]
    new = []
    for org_id, area_id in dict.fromkeys(wanted):
        if (org_id, area_id) not in existing:
            new.append(SurveyLink(survey=survey, org_id=org_id, area_id=area_id, key=new_key()))
    created = SurveyLink.objects.bulk_create(new)
    if created:
        log_action(user, "survey.links_added", survey, org_path=survey.owner.path,
                   places=[[lk.org_id, lk.area_id] for lk in created])
    return created


@transaction.atomic
def set_link_enabled(user, link: SurveyLink, enabled: bool) -> SurveyLink:
    require(user, "survey.manage", link.survey.owner.path)
    link = SurveyLink.objects.select_for_update().select_related("survey__owner", "org").get(pk=link.pk)
    if link.enabled != enabled:
        link.enabled = enabled
        link.save(update_fields=["enabled"])
        log_action(user, "survey.link_enabled" if enabled else "survey.link_disabled", link,
                   org_path=link.org.path, survey=link.survey_id)
    return link


@transaction.atomic
def create_invitations(user, link: SurveyLink, count) -> list[SurveyInvitation]:
    require(user, "survey.manage", link.survey.owner.path)
    link = SurveyLink.objects.select_for_update().select_related("survey__owner", "org").get(pk=link.pk)
    if not link.survey.one_per_invitation:
        raise DomainError(_("本问卷没有启用“每个邀请码限答一次”，无需生成邀请码。"))
    if link.survey.state == SurveyState.CLOSED:
        raise DomainError(_("调查已结束，不能再生成邀请码。"))
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not (1 <= count <= INVITATIONS_MAX):
        raise DomainError(_("每次可生成1–{n}个邀请码。").format(n=INVITATIONS_MAX), "count")
    created = SurveyInvitation.objects.bulk_create([SurveyInvitation(link=link, token=new_key())
                                                    for _i in range(count)])
    log_action(user, "survey.invitations_created", link, org_path=link.org.path, survey=link.survey_id,
               count=count)
    return created


# ---- the public response ----------------------------------------------------------------------------------------


def public_link_for(key: str) -> SurveyLink:
    """An enabled link by its key (any state of the survey), else Http404: a wrong or disabled key looks the
    same."""
    if not key or len(key) > TOKEN_MAX:
        raise Http404(_("页面不存在。"))
    link = (SurveyLink.objects.select_related("survey", "org", "area")
            .filter(key=key, enabled=True, org__archived=False).first())
    if link is None:
        raise Http404(_("页面不存在。"))
    return link


def accepting(survey: Survey, today: datetime.date | None = None) -> bool:
    """Does the survey take responses: open, and today within its dates (where it has them)?"""
    today = today or timezone.localdate()
    if survey.state != SurveyState.OPEN:
        return False
    if survey.opens_on and today < survey.opens_on:
        return False
    return not (survey.closes_on and today > survey.closes_on)


class AnswersInvalid(DomainError):
    """Some answers are missing or wrong; ``errors`` maps "q_<id>" to the sentence shown beside the question."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors.values()))
        super().__init__(first, next(iter(errors)))
        self.errors = errors


@dataclass
class Checked:
    question: Question
    choice: int | None = None
    choices: list[int] = field(default_factory=list)
    text: str = ""
    score: Decimal | None = None


def _index(value: str, size: int) -> int | None:
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        return None
    i = int(value)
    return i if i < size else None


def check_answers(questions: list[Question], raw: dict[int, list[str]]) -> list[Checked]:
    """The answers (question id → posted values) checked against the questions; AnswersInvalid lists every
    problem. A question left blank is skipped (refused when it is required)."""
    known = {q.pk for q in questions}
    if set(raw) - known:
        raise DomainError(_("问卷内容已更新，请刷新页面后重新填写。"))
    errors: dict[str, str] = {}
    out: list[Checked] = []
    for q in questions:
        values = [v for v in raw.get(q.pk, []) if isinstance(v, str)]
        if len(values) != len(raw.get(q.pk, [])) or any("\x00" in v for v in values):
            errors[f"q_{q.pk}"] = _("内容含有无效字符，请重新输入。")
            continue
        name = f"q_{q.pk}"
        filled = [v for v in values if v.strip()]
        if not filled:
            if q.required:
                errors[name] = _("此题为必答题，请作答。")
            continue
        if q.kind == QKind.TEXT:
            if len(filled) != 1:
                errors[name] = _("答案格式不正确，请重新填写。")
                continue
            try:
                text = public.clean_text(filled[0], min_len=1, max_len=TEXT_ANSWER_MAX, field=name)
            except DomainError as exc:
                errors[name] = exc.message
                continue
            out.append(Checked(q, text=text))
        elif q.kind in (QKind.SCALE, QKind.CHOICE):
            size = len(SCALE_LEVELS) if q.kind == QKind.SCALE else len(q.options)
            i = _index(filled[0], size) if len(filled) == 1 else None
            if i is None:
                errors[name] = _("所选答案无效，请重新选择。")
                continue
            score = SCALE_LEVELS[i][1] if q.kind == QKind.SCALE else None
            out.append(Checked(q, choice=i, score=score))
        else:  # multi
            picked = [_index(v, len(q.options)) for v in filled]
            if None in picked or len(set(picked)) != len(picked) or len(picked) > len(q.options):
                errors[name] = _("所选答案无效，请重新选择。")
                continue
            out.append(Checked(q, choices=sorted(picked)))
    if errors:
        raise AnswersInvalid(errors)
    if not out:
        raise DomainError(_("请至少回答一道题后再提交。"))
    return out


def response_score(checked: list[Checked]) -> Decimal | None:
    """The mean of the scale answers' scores (不清楚 left out), one decimal half up; None without any."""
    scores = [c.score for c in checked if c.score is not None]
    if not scores:
        return None
    return round1(sum(scores) / len(scores))


def submit_response(key: str, *, answers: dict[int, list[str]], token: str = "", client: str,
                    request=None) -> SurveyResponse:
    """Store one anonymous response to the open survey of link ``key``, or nothing (DomainError, RateLimited,
    AnswersInvalid, Http404). Afterwards the index of the link's organization and month is brought up to date."""
    public.check_client(client)
    token = (token or "").strip()
    if len(token) > TOKEN_MAX or "\x00" in token:
        raise DomainError(_("邀请码无效，请使用问卷二维码上的链接重新打开。"), "t")
    with transaction.atomic():
        link = (SurveyLink.objects.select_for_update().select_related("survey", "org")
                .filter(key=key or "", enabled=True, org__archived=False).order_by("pk").first())
        if link is None:
            raise Http404(_("页面不存在。"))
        survey = link.survey
        if not accepting(survey):
            raise DomainError(_("本次调查目前不在收集期，感谢您的关注。"))
        checked = check_answers(list(survey.questions.order_by("order", "id")), answers)
        public.client_lock(client)
        now = timezone.now()
        if SurveyResponse.objects.filter(client_hash=client,
                                         submitted_at__gte=now - datetime.timedelta(hours=1)).count() \
                >= PER_CLIENT_HOUR:
            raise RateLimited(_("您在一小时内已提交{n}份问卷，请稍后再试。").format(n=PER_CLIENT_HOUR))
        if SurveyResponse.objects.filter(link=link, submitted_at__gte=now - datetime.timedelta(days=1)).count() \
                >= PER_LINK_DAY:
            raise RateLimited(_("本问卷今日收到的答卷已达上限，请明天再试。"))
        invitation = None
        if survey.one_per_invitation:
            if not token:
                raise DomainError(_("本问卷需凭邀请码填写，请扫描您收到的专属二维码。"), "t")
            invitation = (SurveyInvitation.objects.select_for_update().filter(link=link, token=token)
                          .order_by("pk").first())
            if invitation is None:
                raise DomainError(_("邀请码无效，请使用问卷二维码上的链接重新打开。"), "t")
            if invitation.used_at is not None:
                raise DomainError(_("该邀请码已经提交过问卷，每个邀请码只能填写一次。感谢您的参与！"), "t")
        month = month_start(timezone.localdate())
        response = SurveyResponse.objects.create(survey=survey, link=link, org_id=link.org_id, area_id=link.area_id,
                                                 invitation=invitation, month=month, score=response_score(checked),
                                                 client_hash=client)
        Answer.objects.bulk_create([
            Answer(response=response, question=c.question, choice=c.choice, choices=c.choices, text=c.text,
                   score=c.score) for c in checked
        ])
        if invitation is not None:
            invitation.used_at = now
            invitation.save(update_fields=["used_at"])
        # The audit keeps what happened, not the answers (they stay with the response, anonymous).
        log_action(None, "survey.response_received", response, org_path=link.org.path, request=request,
                   survey=survey.pk, link=link.pk, score=response.score, answers=len(checked))
    try:
        refresh(month, orgs=[link.org_id])
    except Exception:  # the response is stored; the nightly compute_satisfaction catches up
        logger.exception("satisfaction index refresh failed for org %s month %s", link.org_id, month)
    return response

