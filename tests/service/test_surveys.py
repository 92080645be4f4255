"""The survey builder and its pages: settings, questions (only while a draft), the shipped templates, opening and
closing, links per organization with QR codes, invitation codes, results and the index table with their exports.
Bad input is refused with a Chinese sentence and changes nothing; outsiders get 404; lists do not grow in
queries."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.service import surveys as svc
from dangjian.service.models import (
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
from tests.factories import make_org
from tests.service.test_surveys_indices import MONTH, add_responses, make_open_survey


def draft(c, **kw):
    s = svc.create_survey(c.staff, c.committee, title="测试问卷", **kw)
    svc.add_question(c.staff, s, kind=QKind.SCALE, text="供电质量", topic="供电质量")
    return s


# ---- settings and questions ---------------------------------------------------------------------------------------


def test_staff_create_a_survey_on_the_page(client, company):
    c = company
    client.force_login(c.staff)
    resp = client.post(reverse("service:survey_create"), {
        "owner": c.committee.pk, "title": "2026年客户满意度调查", "kind": "customer", "intro": "感谢参与",
        "threshold": "82.5", "min_responses": "8", "opens_on": "2026-10-01", "closes_on": "2026-12-31"})
    s = Survey.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("service:survey_detail", args=[s.pk])
    assert (s.threshold, s.min_responses, s.state, s.owner) == (Decimal("82.5"), 8, SurveyState.DRAFT, c.committee)
    assert AuditEvent.objects.filter(action="survey.created").count() == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"title": ""}, "问卷名称"),
    ({"threshold": "150"}, "预警线"),
    ({"min_responses": "0"}, "最少样本数"),
    ({"opens_on": "2026-12-01", "closes_on": "2026-10-01"}, "结束日期不能早于开始日期"),
])
def test_bad_settings_are_refused_and_nothing_is_created(client, company, data, message):
    c = company
    client.force_login(c.staff)
    post = {"owner": c.committee.pk, "title": "问卷", "kind": "customer", "threshold": "80", "min_responses": "5"}
    post.update(data)
    resp = client.post(reverse("service:survey_create"), post)
    assert resp.status_code == 200 and message in resp.content.decode()
    assert not Survey.objects.exists()


def test_a_secretary_cannot_build_surveys(company):
    c = company
    with pytest.raises(AccessDenied):
        svc.create_survey(c.secretary_a, c.branch_a, title="支部问卷")
    assert not Survey.objects.exists()


def test_templates_ship_chinese_questions_with_topics(company):
    c = company
    cust = svc.create_from_template(c.staff, c.committee, "customer")
    gov = svc.create_from_template(c.staff, c.committee, "government")
    assert (cust.kind, gov.kind) == (SurveyKind.CUSTOMER, SurveyKind.GOVERNMENT)
    topics = set(cust.questions.filter(kind=QKind.SCALE).values_list("topic", flat=True))
    assert {"供电质量", "电费电价", "停电及抢修", "业务办理", "服务态度", "投诉处理"} <= topics
    assert cust.questions.filter(kind=QKind.TEXT).exists()
    gov_topics = set(gov.questions.filter(kind=QKind.SCALE).values_list("topic", flat=True))
    assert {"服务地方发展", "电力保障", "营商环境", "沟通协调"} <= gov_topics
    assert not Question.objects.filter(kind=QKind.SCALE, topic="").exists()
    assert cust.questions.count() == len(TEMPLATES["customer"]["questions"])
    with pytest.raises(DomainError):
        svc.create_from_template(c.staff, c.committee, "nonsense")


def test_template_page_creates_a_draft(client, company):
    c = company
    client.force_login(c.staff)
    assert "客户满意度调查" in client.get(reverse("service:survey_from_template")).content.decode()
    resp = client.post(reverse("service:survey_from_template"), {"template": "government", "owner": c.committee.pk})
    s = Survey.objects.get()
    assert resp.status_code == 302 and s.kind == SurveyKind.GOVERNMENT and s.threshold == Decimal("85.0")


def test_questions_are_added_edited_moved_and_deleted_while_a_draft(client, company):
    c = company
    s = draft(c)
    client.force_login(c.staff)
    resp = client.post(reverse("service:survey_question_add", args=[s.pk]),
                       {"kind": "choice", "text": "您的联系渠道", "required": "on", "options": "95598\n营业厅\n\n"})
    assert resp.status_code == 302
    q2 = s.questions.get(kind=QKind.CHOICE)
    assert q2.options == ["95598", "营业厅"] and q2.order == 2
    client.post(reverse("service:survey_question_move", args=[q2.pk]), {"direction": "up"})
    assert list(s.questions.order_by("order").values_list("kind", flat=True)) == ["choice", "scale"]
    client.post(reverse("service:survey_question_edit", args=[q2.pk]),
                {"kind": "multi", "text": "联系渠道（多选）", "options": "95598\n营业厅\n网上国网"})
    q2.refresh_from_db()
    assert q2.kind == QKind.MULTI and len(q2.options) == 3
    client.post(reverse("service:survey_question_delete", args=[q2.pk]))
    assert list(s.questions.values_list("order", flat=True)) == [1]


@pytest.mark.parametrize(("kind", "text", "options", "message"), [
    ("choice", "单选题", "只有一个", "至少需要两个选项"),
    ("choice", "单选题", "甲\n甲", "不能重复"),
    ("scale", "", "", "请填写题目"),
    ("bogus", "题目", "", "题型"),
])
def test_bad_questions_are_refused(company, kind, text, options, message):
    c = company
    s = draft(c)
    with pytest.raises(DomainError, match=message):
        svc.add_question(c.staff, s, kind=kind, text=text, options=options)
    assert s.questions.count() == 1


def test_open_needs_a_scale_question_and_freezes_the_questions(company):
    c = company
    s = svc.create_survey(c.staff, c.committee, title="只有文字题")
    q = svc.add_question(c.staff, s, kind=QKind.TEXT, text="意见")
    with pytest.raises(DomainError, match="满意度量表题"):
        svc.open_survey(c.staff, s)
    svc.add_question(c.staff, s, kind=QKind.SCALE, text="总体满意度")
    svc.open_survey(c.staff, s)
    with pytest.raises(DomainError, match="题目不能再修改"):
        svc.add_question(c.staff, s, kind=QKind.SCALE, text="新题")
    with pytest.raises(DomainError, match="题目不能再修改"):
        svc.delete_question(c.staff, q)
    with pytest.raises(DomainError, match="不能再修改"):
        svc.update_survey(c.staff, s, kind=SurveyKind.GOVERNMENT)
    svc.update_survey(c.staff, s, threshold=Decimal("75"))
    assert s.questions.count() == 2
    s.refresh_from_db()
    assert (s.kind, s.threshold) == (SurveyKind.CUSTOMER, Decimal("75.0"))
    with pytest.raises(DomainError):
        svc.open_survey(c.staff, s)
    svc.close_survey(c.staff, s)
    with pytest.raises(DomainError):
        svc.close_survey(c.staff, s)
    with pytest.raises(DomainError, match="已结束"):
        svc.update_survey(c.staff, s, title="改名")


def test_state_buttons_on_the_page(client, company):
    c = company
    s = draft(c)
    client.force_login(c.staff)
    client.post(reverse("service:survey_state", args=[s.pk]), {"action": "open"})
    s.refresh_from_db()
    assert s.state == SurveyState.OPEN
    client.post(reverse("service:survey_state", args=[s.pk]), {"action": "close"})
    s.refresh_from_db()
    assert s.state == SurveyState.CLOSED


def test_only_an_unanswered_draft_is_deleted(client, company):
    c = company
    s = make_open_survey(c)
    client.force_login(c.staff)
    client.post(reverse("service:survey_delete", args=[s.pk]))
    assert Survey.objects.filter(pk=s.pk).exists()
    d = draft(c)
    client.post(reverse("service:survey_delete", args=[d.pk]))
    assert not Survey.objects.filter(pk=d.pk).exists()


# ---- links and invitations ----------------------------------------------------------------------------------------


def test_links_for_all_stations_at_once_with_qr_codes(client, company):
    c = company
    s1 = make_org("城关供电所党支部", parent=c.general)
    s2 = make_org("东湖供电所党支部", parent=c.committee)
    s = draft(c)
    client.force_login(c.staff)
    resp = client.post(reverse("service:survey_links", args=[s.pk]), {"name_contains": "供电所"})
    assert resp.status_code == 302
    assert set(s.links.values_list("org_id", flat=True)) == {s1.pk, s2.pk}
    client.post(reverse("service:survey_links", args=[s.pk]), {"orgs": [s1.pk, c.branch_a.pk]})
    assert s.links.count() == 3  # no second link for 城关供电所
    html = client.get(reverse("service:survey_links", args=[s.pk])).content.decode()
    assert html.count('class="survey-qr"') == 3 and "/service/p/survey/" in html
    sheet = client.get(reverse("service:survey_link_sheet", args=[s.pk])).content.decode()
    assert sheet.count("survey-qr-print") == 3 and "城关供电所党支部" in sheet


def test_links_outside_the_owners_subtree_are_refused(company):
    c = company
    s = svc.create_survey(c.staff, c.general, title="总支问卷")
    with pytest.raises(DomainError, match="不在本问卷发起单位的范围内"):
        svc.add_links(c.staff, s, orgs=[c.branch_a, c.branch_c])
    assert not SurveyLink.objects.exists()
    with pytest.raises(DomainError):
        svc.add_links(c.staff, s)


def test_a_link_is_disabled_and_enabled(client, company):
    c = company
    s = make_open_survey(c)
    link = s.links.get(org=c.branch_a)
    client.force_login(c.staff)
    client.post(reverse("service:survey_link_toggle", args=[link.pk]), {"enabled": "0"})
    link.refresh_from_db()
    assert not link.enabled
    assert client.get(reverse("service:survey_public", args=[link.key])).status_code == 404
    client.post(reverse("service:survey_link_toggle", args=[link.pk]), {"enabled": "1"})
    link.refresh_from_db()
    assert link.enabled


def test_invitation_codes_in_batches(client, company):
    c = company
    s = make_open_survey(c)
    link = s.links.get(org=c.branch_a)
    with pytest.raises(DomainError, match="没有启用"):
        svc.create_invitations(c.staff, link, 5)
    Survey.objects.filter(pk=s.pk).update(one_per_invitation=True)
    client.force_login(c.staff)
    for bad in ("0", "501", "abc"):
        client.post(reverse("service:survey_invitations", args=[link.pk]), {"count": bad})
    assert not SurveyInvitation.objects.exists()
    client.post(reverse("service:survey_invitations", args=[link.pk]), {"count": "12"})
    assert SurveyInvitation.objects.filter(link=link).count() == 12
    html = client.get(reverse("service:survey_invitations", args=[link.pk])).content.decode()
    assert html.count('class="survey-qr-print"') == 12
    used = SurveyInvitation.objects.first()
    assert len(used.token) == 32 and len(set(SurveyInvitation.objects.values_list("token", flat=True))) == 12
    SurveyInvitation.objects.filter(pk=used.pk).update(used_at=timezone.now())
    html = client.get(reverse("service:survey_invitations", args=[link.pk])).content.decode()
    assert html.count('class="survey-qr-print"') == 11  # the printable list shows the unused codes
    html = client.get(reverse("service:survey_invitations", args=[link.pk]), {"show": "all"}).content.decode()
    assert html.count('class="survey-qr-print"') == 11 and "已使用" in html


def test_a_secretary_cannot_manage_links(client, company):
    c = company
    s = make_open_survey(c)
    link = s.links.get(org=c.branch_a)
    client.force_login(c.secretary_a)
    assert client.get(reverse("service:survey_links", args=[s.pk])).status_code == 200
    assert client.post(reverse("service:survey_links", args=[s.pk]), {"orgs": [c.branch_a.pk]}).status_code == 404
    assert client.post(reverse("service:survey_link_toggle", args=[link.pk]), {"enabled": "0"}).status_code == 404
    link.refresh_from_db()
    assert link.enabled


# ---- results, indices, exports ------------------------------------------------------------------------------------


def test_results_show_orgs_distribution_topics_and_texts(client, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 1), (1, 2)])
    add_responses(s, c.branch_b, [(3, 3)])
    client.force_login(c.staff)
    resp = client.get(reverse("service:survey_results", args=[s.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200
    orgs = {r["name"]: r for r in resp.context["orgs"]}
    assert orgs[c.branch_a.name]["mean"] == Decimal("75.0") and orgs[c.branch_b.name]["mean"] == Decimal("0.0")
    first = resp.context["questions"][0]
    assert [n for _l, n, _p in first.counts] == [1, 1, 0, 1, 0] and first.answered == 3
    assert resp.context["topics"][0][0] in ("供电质量", "服务态度")
    assert "survey-low" in html


def test_a_secretary_sees_only_the_own_branchs_results(client, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 0)])
    add_responses(s, c.branch_b, [(3, 3)])
    client.force_login(c.secretary_a)
    resp = client.get(reverse("service:survey_results", args=[s.pk]))
    assert [r["name"] for r in resp.context["orgs"]] == [c.branch_a.name] and resp.context["total"] == 1
    client.force_login(c.secretary_b)  # the survey has a link for branch B too
    resp = client.get(reverse("service:survey_results", args=[s.pk]))
    assert [r["name"] for r in resp.context["orgs"]] == [c.branch_b.name]
    client.force_login(c.member_user_a)
    assert client.get(reverse("service:survey_results", args=[s.pk])).status_code == 404
    client.force_login(c.outsider)
    assert client.get(reverse("service:survey_detail", args=[s.pk])).status_code == 404


def test_responses_export_is_anonymous(client, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 1)])
    SurveyResponse.objects.update(client_hash="f" * 64)
    client.force_login(c.staff)
    resp = client.get(reverse("service:survey_results", args=[s.pk]) + "?format=xlsx")
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("提交时间", "月份", "被评价单位", "服务区域", "得分") and len(rows) == 2
    assert rows[1][2] == c.branch_a.name and "满意" in rows[1] and "比较满意" in rows[1]
    assert not any("f" * 64 == v for v in rows[1])
    assert AuditEvent.objects.filter(action="export").exists()


def test_recompute_button_opens_the_ticket(client, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(2, 2)] * 3)
    client.force_login(c.staff)
    resp = client.post(reverse("service:survey_recompute", args=[s.pk]))
    assert resp.status_code == 302
    ix = SatisfactionIndex.objects.get(org=c.branch_a)
    assert ix.ticket.title == "客户满意度偏低：2026年10月 40.0分"
    html = client.get(reverse("service:survey_indices")).content.decode()
    assert ix.ticket.number in html and "survey-low" in html


def test_index_table_filters_and_export(client, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 0)] * 2)
    add_responses(s, c.branch_b, [(2, 2)] * 2)
    svc.compute_indices(MONTH)
    client.force_login(c.staff)
    url = reverse("service:survey_indices")
    assert client.get(url, {"low": "1"}).context["page"].paginator.count == 1
    assert client.get(url, {"org": c.branch_a.pk}).context["page"].paginator.count == 1
    assert client.get(url, {"month_from": "2026-11"}).context["page"].paginator.count == 0
    assert client.get(url, {"month_from": "bad"}).status_code == 200
    rows = list(load_workbook(io.BytesIO(client.get(url, {"format": "xlsx"}).content)).active.iter_rows(
        values_only=True))
    assert len(rows) == 3 and rows[1][0] == "2026-10"
    client.force_login(c.secretary_a)
    assert client.get(url).context["page"].paginator.count == 1
    assert client.get(url, {"org": c.branch_b.pk}).status_code == 404


def make_org_with_link(c, survey):
    org = make_org("西山供电所党支部", parent=c.general)
    svc.add_links(c.staff, survey, orgs=[org])
    return org


def test_lists_do_not_grow_in_queries(client, company, django_assert_max_num_queries):
    c = company
    client.force_login(c.staff)
    add_responses(make_open_survey(c), c.branch_b, [(0, 0)])
    svc.compute_indices(MONTH)

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    small = (count(reverse("service:survey_list")), count(reverse("service:survey_indices")))
    for _i in range(4):
        s = make_open_survey(c)
        add_responses(s, c.branch_a, [(0, 0)])
    add_responses(s, make_org_with_link(c, s), [(1, 1)])
    svc.compute_indices(MONTH)
    big = (count(reverse("service:survey_list")), count(reverse("service:survey_indices")))
    assert big == small
    s = Survey.objects.first()
    with django_assert_max_num_queries(20):
        client.get(reverse("service:survey_results", args=[s.pk]))
    with django_assert_max_num_queries(20):
        client.get(reverse("service:survey_links", args=[s.pk]))


def test_settings_of_an_open_survey_are_edited_on_the_page(client, company):
    c = company
    s = make_open_survey(c)
    client.force_login(c.staff)
    assert client.get(reverse("service:survey_edit", args=[s.pk])).status_code == 200
    resp = client.post(reverse("service:survey_edit", args=[s.pk]), {
        "title": "改名后的问卷", "kind": "government", "threshold": "78.5", "min_responses": "6"})
    assert resp.status_code == 302
    s.refresh_from_db()
    # the kind is fixed once open (the field is disabled, the posted value ignored); the rest changed
    assert (s.title, s.kind, s.threshold, s.min_responses) == ("改名后的问卷", "customer", Decimal("78.5"), 6)
    assert AuditEvent.objects.filter(action="survey.updated").count() == 1


def test_a_secretary_counts_only_their_own_branch_in_the_survey_list(client, company):
    survey = make_open_survey(company)
    add_responses(survey, company.branch_a, [[0, 0], [1, 1], [0, 1]])
    add_responses(survey, company.branch_b, [[0, 0]])
    expected = {company.secretary_b: (1, 1), company.secretary_a: (3, 1), company.staff: (4, 2)}
    for user, (responses, links) in expected.items():
        client.force_login(user)
        page = client.get(reverse("service:survey_list")).context["page"]
        row = next(s for s in page if s.pk == survey.pk)
        assert (row.n_responses, row.n_links) == (responses, links), user.username


def test_the_database_keeps_one_link_per_survey_and_place(company):
    from django.db import IntegrityError, transaction

    survey = make_open_survey(company, orgs=[company.branch_a])
    link = survey.links.get(org=company.branch_a, area=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyLink.objects.create(survey=survey, org=company.branch_a, key="another-key-for-the-same-place")
    assert survey.links.count() == 1 and survey.links.get().pk == link.pk
