"""The evaluation pages: the months and their coverage, one organization's month through the whole cycle by HTTP
posts (secretary → assessor → staff), conflicts, evidence uploads checked by content, scoped downloads, and
constant query counts. Personas: tests/conftest.py; the month: tests/assessments/conftest.py."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from dangjian.assessments import services
from dangjian.assessments.models import (
    AssessorAssignment,
    EvalItem,
    Evaluation,
    Evidence,
    Objection,
    Period,
    ScoreEntry,
    State,
    Transition,
)
from dangjian.core.models import AuditEvent
from tests.factories import make_org, make_user

D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def url(name, *args):
    return reverse(f"assessments:{name}", args=args)


def html(resp):
    return resp.content.decode()


# ---- files ---------------------------------------------------------------------------------------------


def pdf_bytes() -> bytes:
    """A real, minimal one-page PDF."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def png_bytes(size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "PNG")
    return buf.getvalue()


def docx_bytes(main="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                                           f'ContentType="{main}"/></Types>')
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(media):
    root = media / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ---- driving an evaluation through its states ----------------------------------------------------------


def submit(c, ev, by=None):
    by = by or c.secretary_a
    services.save_summary(by, ev, "本月召开支委会1次、主题党日1次。")
    services.move(by, ev, State.SUBMITTED)


def self_assess(c, ev, by=None):
    by = by or c.secretary_a
    for ei in ev.items.all():
        services.score_item(by, ei, "self", ei.max_points)
    services.move(by, ev, State.SELF_ASSESSED)


def assess(c, ev, minus=Decimal("0")):
    for ei in ev.items.all():
        services.score_item(c.assessor, ei, "assessor", ei.max_points - minus, reason="记录不全" if minus else "")
    services.move(c.assessor, ev, State.ASSESSED)


# ---- months --------------------------------------------------------------------------------------------


def test_the_period_list_per_persona(client, company, period, eval_a):
    c = company
    expected = {"admin": 200, "staff": 200, "assessor": 200, "secretary_a": 200, "secretary_b": 200,
                "member_user_a": 200, "outsider": 404}
    for persona, status in expected.items():
        client.force_login(getattr(c, persona))
        resp = client.get(url("period_list"))
        assert resp.status_code == status, persona
        if status == 200:
            assert "2026-10" in html(resp), persona
            assert ("开启考评月份" in html(resp)) == (persona in ("admin", "staff")), persona
    client.force_login(c.secretary_a)
    page = html(client.get(url("period_list")))
    assert "我的考评" in page and url("evaluation_detail", eval_a.pk) in page
    client.logout()
    assert client.get(url("period_list")).status_code == 302


def test_the_nav_offers_the_evaluation_to_those_who_may_see_it(client, company):
    client.force_login(company.member_user_a)
    assert "组织考评" in html(client.get(reverse("home")))
    client.force_login(company.outsider)
    assert "组织考评" not in html(client.get(reverse("home")))


def test_staff_open_a_month_through_the_form(client, company, standard):
    client.force_login(company.staff)
    form = html(client.get(url("period_create")))
    assert "考评月份" in form and "报送截止" in form and "自动：使用该党委当年已发布的考评标准" in form
    data = {"owner": company.committee.pk, "month": "2026-11", "submit_due": "2026-11-25", "self_due": "2026-11-28",
            "assess_due": "2026-12-05", "objection_days": 3, "standard_set": ""}
    resp = client.post(url("period_create"), data)
    period = Period.objects.get(month=D(2026, 11, 1))
    assert resp.status_code == 302 and resp.url == url("period_detail", period.pk)
    assert period.standard_set == standard and period.evaluations.count() == 4
    again = client.post(url("period_create"), data)
    assert again.status_code == 200 and "已开启，不能重复开启" in html(again)
    bad = client.post(url("period_create"), {**data, "month": "2026-12", "submit_due": "2026-11-01"})
    assert "截止日期应依次为" in html(bad)
    client.force_login(company.secretary_a)
    assert client.get(url("period_create")).status_code == 404
    assert client.post(url("period_create"), {**data, "month": "2027-01"}).status_code == 404


def test_the_coverage_view_per_persona(client, company, period, eval_a):
    c = company
    names = {"staff": {"运维检修党总支", "变电运维党支部", "输电运检党支部", "机关第一党支部"},
             "assessor": {"运维检修党总支", "变电运维党支部", "输电运检党支部", "机关第一党支部"},
             "secretary_a": {"变电运维党支部"}, "secretary_b": {"输电运检党支部"}, "member_user_a": {"变电运维党支部"}}
    all_names = names["staff"]
    for persona, visible in names.items():
        client.force_login(getattr(c, persona))
        resp = client.get(url("period_detail", period.pk))
        assert resp.status_code == 200, persona
        page = html(resp)
        table = page[page.index('data-testid="coverage-table"'):]
        assert {n for n in all_names if n in table} == visible, persona
        assert ("公示全部已考评" in page) == (persona == "staff"), persona
        assert ("分配考评员" in page) == (persona == "staff"), persona
    client.force_login(c.outsider)
    assert client.get(url("period_detail", period.pk)).status_code == 404


def test_coverage_counts_states_marks_overdue_in_red_and_filters(client, company, period, eval_a):
    c = company
    submit(c, eval_a)
    Period.objects.filter(pk=period.pk).update(submit_due=D(2020, 1, 25), self_due=D(2099, 1, 1),
                                               assess_due=D(2099, 1, 2))
    client.force_login(c.staff)
    page = html(client.get(url("period_detail", period.pk)))
    cards = page[page.index('data-testid="state-cards"'):page.index("考评完成率")]
    assert '<div class="small text-muted">未开始</div><div class="stat text-body">3</div>' in cards
    assert '<div class="small text-muted">已报送</div><div class="stat text-body">1</div>' in cards
    # The three not-started organizations are past the submission deadline; branch A (submitted) is not.
    assert page.count('class="overdue-row"') == 3 and "已逾期（2020-01-25）" in page
    row_a = page[page.index(url("evaluation_detail", eval_a.pk)):].split("</tr>")[0]
    assert "已逾期" not in row_a
    only_overdue = html(client.get(url("period_detail", period.pk) + "?overdue=1"))
    assert "变电运维党支部" not in only_overdue.split('data-testid="coverage-table"')[1]
    submitted = html(client.get(url("period_detail", period.pk) + "?state=submitted"))
    table = submitted.split('data-testid="coverage-table"')[1]
    assert "变电运维党支部" in table and "输电运检党支部" not in table
    general = html(client.get(url("period_detail", period.pk) + "?level=general")).split('data-testid="coverage-table"')[1]
    assert "运维检修党总支" in general and "变电运维党支部" not in general
    management = c.branch_c.type_id
    typed = html(client.get(url("period_detail", period.pk) + f"?type={management}")).split('data-testid="coverage-table"')[1]
    assert "机关第一党支部" in typed and "变电运维党支部" not in typed
    # A subtree (the oversight dashboard's drill-down): the 党总支 and its branches, nothing beside them.
    page = html(client.get(url("period_detail", period.pk) + f"?org={c.general.pk}"))
    subtree = page.split('data-testid="coverage-table"')[1]
    assert "运维检修党总支" in subtree and "变电运维党支部" in subtree and "机关第一党支部" not in subtree
    assert 'data-testid="subtree"' in page and f'name="org" value="{c.general.pk}"' in page
    unknown = html(client.get(url("period_detail", period.pk) + "?org=999999")).split('data-testid="coverage-table"')[1]
    assert "党支部" not in unknown.split("</table>")[0].split("<tbody>")[1]


def test_the_coverage_exports_to_excel(client, company, period, eval_a):
    client.force_login(company.secretary_a)
    resp = client.get(url("period_detail", period.pk) + "?format=xlsx")
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("组织名称", "层级", "类型", "状态")
    assert [r[0] for r in rows[1:]] == ["变电运维党支部"]  # the secretary's scope only
    assert AuditEvent.objects.filter(action="export", username="secretary_a").exists()
    client.force_login(company.staff)
    ws = load_workbook(io.BytesIO(client.get(url("period_list") + "?format=xlsx").content)).active
    assert list(ws.iter_rows(values_only=True))[1][0] == "2026-10"


# ---- one organization's month --------------------------------------------------------------------------


def test_the_evaluation_page_per_persona(client, company, period, eval_a):
    c = company
    buttons = {"admin": ["报送月小结"], "staff": ["报送月小结"], "assessor": [], "secretary_a": ["报送月小结"],
               "member_user_a": []}
    for persona, labels in buttons.items():
        client.force_login(getattr(c, persona))
        resp = client.get(url("evaluation_detail", eval_a.pk))
        assert resp.status_code == 200, persona
        page = html(resp)
        moves = page[page.index('data-testid="transitions"'):page.index("</div>", page.index('data-testid="transitions"'))]
        assert [lbl for lbl in ("报送月小结", "提交自评", "提交考评", "公示") if lbl in moves] == labels, persona
        assert ('data-testid="summary-form"' in page) == (persona in ("admin", "staff", "secretary_a")), persona
        assert "组织生活" in page  # items grouped by category
    for persona in ("secretary_b", "outsider"):
        client.force_login(getattr(c, persona))
        assert client.get(url("evaluation_detail", eval_a.pk)).status_code == 404, persona


def test_the_whole_cycle_through_the_pages(client, company, period, eval_a):
    c = company
    items = list(eval_a.items.select_related("item").order_by("id"))
    # The secretary writes the summary and reports it.
    client.force_login(c.secretary_a)
    resp = client.post(url("evaluation_summary", eval_a.pk), {"summary": "本月召开支委会1次、党员大会1次。",
                                                             "version": eval_a.version})
    assert resp.status_code == 302
    resp = client.post(url("evaluation_move", eval_a.pk), {"to_state": "submitted"}, follow=True)
    assert "当前状态：已报送" in html(resp)
    # Self-assessment item by item; a deduction needs a remark.
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert page.count('data-testid="self-form"') == len(items)
    first = items[0]
    resp = client.post(url("item_self", first.pk), {"score": first.max_points - 1, "version": first.version})
    assert resp.status_code == 200 and "扣分须说明理由。" in html(resp)
    for ei in items:
        ei.refresh_from_db()
        score, reason = (ei.max_points - 1, "缺一次支委会记录") if ei == first else (ei.max_points, "")
        resp = client.post(url("item_self", ei.pk), {"score": score, "reason": reason, "version": ei.version})
        assert resp.status_code == 302, html(resp)[:500]
    client.post(url("evaluation_move", eval_a.pk), {"to_state": "self_assessed"})
    eval_a.refresh_from_db()
    assert eval_a.state == State.SELF_ASSESSED and eval_a.self_total == eval_a.max_total - 1
    # The assessor scores on site; one save through HTMX returns the item's card only.
    client.force_login(c.assessor)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert page.count('data-testid="assess-form"') == len(items) and 'data-testid="photo-form"' in page
    for n, ei in enumerate(items):
        ei.refresh_from_db()
        score, reason = (ei.max_points - Decimal("0.5"), "主题党日记录缺照片") if n == 1 else (ei.max_points, "")
        headers = {"HX-Request": "true"} if n == 1 else {}
        resp = client.post(url("item_assess", ei.pk), {"score": score, "reason": reason, "version": ei.version},
                           headers=headers)
        if n == 1:
            assert resp.status_code == 200 and html(resp).lstrip().startswith('<div class="card eval-item')
            assert "已保存" in html(resp) and f'id="item-{ei.pk}"' in html(resp)
        else:
            assert resp.status_code == 302
    client.post(url("evaluation_move", eval_a.pk), {"to_state": "assessed"})
    eval_a.refresh_from_db()
    assert eval_a.state == State.ASSESSED and eval_a.assessor_total == eval_a.max_total - Decimal("0.5")
    # Before publication the organization does not see the assessor's scores.
    client.force_login(c.secretary_a)
    assert 'data-testid="assessor-total"' not in html(client.get(url("evaluation_detail", eval_a.pk)))
    coverage = html(client.get(url("period_detail", period.pk))).split('data-testid="coverage-table"')[1]
    assert str(eval_a.self_total) in coverage and str(eval_a.assessor_total) not in coverage
    # Staff review side by side and publish the month.
    client.force_login(c.staff)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert 'data-testid="score-diff"' in page and "-0.5" in page
    resp = client.post(url("period_publish", period.pk), follow=True)
    assert "已公示 1 个组织的考评结果" in html(resp)
    # The secretary objects; the staff answer.
    client.force_login(c.secretary_a)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert 'data-testid="raise-objection"' in page and 'data-testid="assessor-total"' in page
    resp = client.post(url("evaluation_move", eval_a.pk), {"to_state": "objected", "note": "",
                                                           "item": items[1].pk}, follow=True)
    assert "请写明异议内容。" in html(resp)
    client.post(url("evaluation_move", eval_a.pk), {"to_state": "objected", "note": "照片已在党建系统中上传。",
                                                    "item": items[1].pk})
    objection = Objection.objects.get(evaluation=eval_a)
    assert objection.eval_item_id == items[1].pk
    client.force_login(c.staff)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert 'data-testid="answer-objection"' in page and "照片已在党建系统中上传。" in page
    resp = client.post(url("evaluation_move", eval_a.pk), {"to_state": "published", "note": "经核查属实。"},
                       follow=True)
    assert "请选择异议是否成立。" in html(resp)
    # Upheld: the staff correct the item first, then answer.
    ei = EvalItem.objects.get(pk=items[1].pk)
    client.post(url("item_assess", ei.pk), {"score": ei.max_points, "reason": "", "version": ei.version})
    client.post(url("evaluation_move", eval_a.pk), {"to_state": "published", "note": "经核查属实，已更正。",
                                                    "upheld": "1"})
    eval_a.refresh_from_db()
    objection.refresh_from_db()
    assert eval_a.state == State.PUBLISHED and objection.upheld is True and eval_a.assessor_total == eval_a.max_total
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert "成立" in page and "经核查属实，已更正。" in page
    states = list(Transition.objects.filter(evaluation=eval_a).values_list("to_state", flat=True))
    assert states == ["submitted", "self_assessed", "assessed", "published", "objected", "published"]
    history = page[page.index('data-testid="history"'):]
    assert history.count("<li") == 6
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"evaluation.summary_saved", "evaluation.moved", "evaluation.item_scored"} <= actions


def test_the_month_is_finalized_from_the_coverage_page(client, company, period):
    c = company
    for ev in period.evaluations.all():
        submit(c, ev, c.staff)
        self_assess(c, ev, c.staff)
        assess(c, ev)
    client.force_login(c.staff)
    page = html(client.get(url("period_detail", period.pk)))
    assert 'data-testid="finalize"' in page
    client.post(url("period_publish", period.pk))
    # The publicity window (公示期) is over: the publications are dated back past it.
    Transition.objects.filter(evaluation__period=period, to_state=State.PUBLISHED).update(
        at=F("at") - datetime.timedelta(days=period.objection_days + 1))
    resp = client.post(url("period_finalize", period.pk), follow=True)
    assert "已兑现并锁定" in html(resp)
    period.refresh_from_db()
    assert period.is_finalized
    page = html(client.get(url("period_detail", period.pk)))
    assert 'data-testid="finalize"' not in page and 'data-testid="publish-all"' not in page


def test_a_return_needs_a_reason(client, company, eval_a):
    c = company
    submit(c, eval_a)
    client.force_login(c.staff)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert 'data-testid="return-not_started"' in page and "退回理由" in page
    resp = client.post(url("evaluation_move", eval_a.pk), {"to_state": "not_started", "note": " "}, follow=True)
    assert "退回时请说明理由。" in html(resp)
    client.post(url("evaluation_move", eval_a.pk), {"to_state": "not_started", "note": "月小结未写主题党日。"})
    eval_a.refresh_from_db()
    assert eval_a.state == State.NOT_STARTED
    client.force_login(c.secretary_a)
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert "月小结未写主题党日。" in page and 'data-testid="return-not_started"' not in page


def test_a_secretary_cannot_make_the_committees_moves(client, company, eval_a):
    c = company
    submit(c, eval_a)
    self_assess(c, eval_a)
    client.force_login(c.secretary_a)
    assert client.post(url("evaluation_move", eval_a.pk), {"to_state": "assessed"}).status_code == 404
    client.force_login(c.member_user_a)
    assert client.post(url("item_self", eval_a.items.first().pk), {"score": 1}).status_code == 404
    eval_a.refresh_from_db()
    assert eval_a.state == State.SELF_ASSESSED


def test_the_second_of_two_concurrent_scores_is_told_and_keeps_its_typed_value(client, company, eval_a):
    c = company
    submit(c, eval_a)
    self_assess(c, eval_a)
    ei = eval_a.items.order_by("id").first()
    seen = ei.version  # the assessor and the staff member both opened the page
    client.force_login(c.assessor)
    first = client.post(url("item_assess", ei.pk), {"score": ei.max_points - 1, "reason": "记录缺页",
                                                    "version": seen})
    assert first.status_code == 302
    client.force_login(c.staff)
    second = client.post(url("item_assess", ei.pk), {"score": "0.5", "reason": "未按期召开", "version": seen})
    page = html(second)
    assert second.status_code == 200
    assert "您的修改未保存" in page and f"修改为 {ei.max_points - 1} 分" in page
    card = page[page.index(f'id="item-{ei.pk}"'):]
    assert 'value="0.5"' in card and "未按期召开" in card  # nothing the user typed is lost
    ei.refresh_from_db()
    assert ei.assessor_score == ei.max_points - 1
    assert ei.entries.filter(kind=ScoreEntry.Kind.ASSESSOR).count() == 1
    # The same through HTMX: the card comes back with the message, the typed value and the current version.
    resp = client.post(url("item_assess", ei.pk), {"score": "0.5", "reason": "未按期召开", "version": seen},
                       headers={"HX-Request": "true"})
    part = html(resp)
    assert "您的修改未保存" in part and 'value="0.5"' in part and f'name="version" value="{ei.version}"' in part
    ei.refresh_from_db()
    assert ei.assessor_score == ei.max_points - 1


def test_a_summary_conflict_keeps_the_text(client, company, eval_a):
    client.force_login(company.secretary_a)
    version = eval_a.version
    client.post(url("evaluation_summary", eval_a.pk), {"summary": "第一稿", "version": version})
    resp = client.post(url("evaluation_summary", eval_a.pk), {"summary": "第二稿的内容", "version": version})
    page = html(resp)
    assert resp.status_code == 200 and "月小结已被他人修改" in page and "第二稿的内容" in page
    eval_a.refresh_from_db()
    assert eval_a.summary == "第一稿"


# ---- evidence ------------------------------------------------------------------------------------------


def test_evidence_pdf_and_png_are_accepted_and_downloaded_only_in_scope(client, company, eval_a, media):
    c = company
    ei = eval_a.items.order_by("id").first()
    client.force_login(c.secretary_a)
    resp = client.post(url("evidence_upload", eval_a.pk),
                       {"kind": "evidence", "item": ei.pk, "file": upload("支委会记录.pdf", pdf_bytes())}, follow=True)
    assert "已上传“支委会记录.pdf”" in html(resp)
    client.post(url("evidence_upload", eval_a.pk), {"file": upload("活动照片.png", png_bytes())})
    client.post(url("evidence_upload", eval_a.pk), {"item": ei.pk, "file": upload("台账.docx", docx_bytes())})
    files = {e.name: e for e in Evidence.objects.filter(evaluation=eval_a)}
    assert set(files) == {"支委会记录.pdf", "活动照片.png", "台账.docx"}
    pdf = files["支委会记录.pdf"]
    assert pdf.content_type == "application/pdf" and pdf.eval_item_id == ei.pk
    assert files["活动照片.png"].content_type == "image/png" and files["活动照片.png"].eval_item_id is None
    assert "支委会记录" not in pdf.file.name and len(stored_files(media)) == 3  # random stored names
    page = html(client.get(url("evaluation_detail", eval_a.pk)))
    assert url("evidence_download", pdf.pk) in page and 'data-testid="withdraw"' in page
    resp = client.get(url("evidence_download", pdf.pk))
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == pdf_bytes()
    assert resp["Content-Disposition"].startswith("attachment") and resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Type"] == "application/pdf"
    for persona in ("staff", "assessor", "member_user_a"):
        client.force_login(getattr(c, persona))
        assert client.get(url("evidence_download", pdf.pk)).status_code == 200, persona
    for persona in ("secretary_b", "outsider"):
        client.force_login(getattr(c, persona))
        assert client.get(url("evidence_download", pdf.pk)).status_code == 404, persona
        assert client.post(url("evidence_withdraw", pdf.pk)).status_code == 404, persona
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 3


@pytest.mark.parametrize(("name", "content", "message"), [
    ("报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "文件内容与扩展名“.pdf”不符"),
    ("说明.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "文件内容与扩展名“.pdf”不符"),
    ("程序.exe", b"MZ\x90\x00" + b"\x00" * 100, "不支持的文件类型"),
    ("图片.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "图片文件已损坏"),
    ("宏.docx", docx_bytes("application/vnd.ms-word.document.macroEnabled.main+xml"), "不接受含宏的 Office 文档"),
    ("假的.docx", b"PK\x03\x04not really a zip", "文件已损坏"),
    ("空.pdf", b"", "文件是空的"),
])
def test_evidence_is_refused_by_content_in_chinese_and_nothing_is_stored(client, company, eval_a, media, name,
                                                                          content, message):
    client.force_login(company.secretary_a)
    resp = client.post(url("evidence_upload", eval_a.pk), {"file": upload(name, content, "application/pdf")},
                       follow=True)
    assert message in html(resp)
    assert not Evidence.objects.exists() and stored_files(media) == []


def test_oversize_evidence_is_refused(client, company, eval_a, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    client.force_login(company.secretary_a)
    resp = client.post(url("evidence_upload", eval_a.pk), {"file": upload("大文件.pdf", b"%PDF-1.4\n" + b"0" * 2048)},
                       follow=True)
    assert "文件过大：每个文件不能超过" in html(resp)
    assert not Evidence.objects.exists() and stored_files(media) == []


def test_evidence_is_withdrawn_while_editable_and_then_not_served(client, company, eval_a):
    c = company
    client.force_login(c.secretary_a)
    client.post(url("evidence_upload", eval_a.pk), {"file": upload("记录.pdf", pdf_bytes())})
    evidence = Evidence.objects.get()
    resp = client.post(url("evidence_withdraw", evidence.pk), follow=True)
    assert "已撤回“记录.pdf”" in html(resp)
    assert client.get(url("evidence_download", evidence.pk)).status_code == 404
    assert "记录.pdf" not in html(client.get(url("evaluation_detail", eval_a.pk)))
    assert AuditEvent.objects.filter(action="evidence.withdrawn").count() == 1
    # Once self-assessed, the organization's evidence is fixed.
    client.post(url("evidence_upload", eval_a.pk), {"file": upload("记录2.pdf", pdf_bytes())})
    submit(c, eval_a)
    self_assess(c, eval_a)
    kept = Evidence.objects.get(name="记录2.pdf")
    resp = client.post(url("evidence_withdraw", kept.pk), follow=True)
    assert "佐证资料只能在报送和自评阶段上传或撤回" in html(resp)
    resp = client.post(url("evidence_upload", eval_a.pk), {"file": upload("迟到.pdf", pdf_bytes())}, follow=True)
    assert "佐证资料只能在报送和自评阶段上传或撤回" in html(resp)


def test_the_assessor_uploads_photos_only_while_assessing(client, company, eval_a):
    c = company
    ei = eval_a.items.first()
    client.force_login(c.assessor)
    assert client.post(url("evidence_upload", eval_a.pk), {"file": upload("a.png", png_bytes())}).status_code == 404
    resp = client.post(url("evidence_upload", eval_a.pk), {"kind": "photo", "file": upload("a.png", png_bytes())},
                       follow=True)
    assert "现场照片只能在考评阶段上传或撤回" in html(resp)
    submit(c, eval_a)
    self_assess(c, eval_a)
    resp = client.post(url("evidence_upload", eval_a.pk), {"kind": "photo", "item": ei.pk,
                                                           "file": upload("记录.pdf", pdf_bytes())}, follow=True)
    assert "现场照片须为 JPG 或 PNG 图片。" in html(resp)
    client.post(url("evidence_upload", eval_a.pk), {"kind": "photo", "item": ei.pk,
                                                    "file": upload("现场.png", png_bytes())})
    assert Evidence.objects.get().kind == Evidence.Kind.PHOTO


# ---- assessors -----------------------------------------------------------------------------------------


def test_staff_assign_assessors_and_only_they_score(client, company, period, eval_a):
    c = company
    other = make_user("assessor2", "assessor", c.committee, first_name="王考评")
    client.force_login(c.staff)
    page = html(client.get(url("period_assessors", period.pk)))
    assert "王考评" in page and "变电运维党支部" in page
    resp = client.post(url("period_assessors", period.pk), {"assessor": other.pk, "evaluations": [eval_a.pk]},
                       follow=True)
    assert "已为王考评分配 1 个考评对象" in html(resp)
    assert list(AssessorAssignment.objects.values_list("assessor__username", flat=True)) == ["assessor2"]
    assert "王考评" in html(client.get(url("period_detail", period.pk)))
    submit(c, eval_a)
    self_assess(c, eval_a)
    ei = eval_a.items.first()
    client.force_login(c.assessor)
    assert 'data-testid="assess-form"' not in html(client.get(url("evaluation_detail", eval_a.pk)))
    assert client.post(url("item_assess", ei.pk), {"score": ei.max_points, "version": ei.version}).status_code == 404
    client.force_login(other)
    assert 'data-testid="assess-form"' in html(client.get(url("evaluation_detail", eval_a.pk)))
    assert client.post(url("item_assess", ei.pk), {"score": ei.max_points, "version": ei.version}).status_code == 302
    client.force_login(c.staff)
    assignment = AssessorAssignment.objects.get()
    client.post(url("assignment_remove", assignment.pk))
    assert not AssessorAssignment.objects.exists()


def test_an_assessor_without_a_grant_on_the_org_cannot_be_assigned(client, company, period, eval_a):
    elsewhere = make_org("外单位党委", level="committee", type_code=None)
    stranger = make_user("assessor3", "assessor", elsewhere)
    client.force_login(company.staff)
    page = html(client.get(url("period_assessors", period.pk)))
    assert "assessor3" not in page  # only assessors covering the committee are offered
    resp = client.post(url("period_assessors", period.pk), {"assessor": stranger.pk, "evaluations": [eval_a.pk]})
    assert resp.status_code == 200 and not AssessorAssignment.objects.exists()


# ---- query counts --------------------------------------------------------------------------------------


def _grow(company, n):
    for i in range(n):
        make_org(f"新增党支部{i}", parent=company.general)


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_the_coverage_page_runs_a_constant_number_of_queries(client, company, standard):
    c = company
    client.force_login(c.staff)
    small = services.open_period(c.staff, c.committee, "2026-01", submit_due=D(2026, 1, 25),
                                 self_due=D(2026, 1, 28), assess_due=D(2026, 2, 5))
    _grow(c, 12)
    large = services.open_period(c.staff, c.committee, "2026-02", submit_due=D(2026, 2, 25),
                                 self_due=D(2026, 2, 26), assess_due=D(2026, 2, 27))
    assert large.evaluations.count() > small.evaluations.count() + 10
    for ev in large.evaluations.all()[:3]:
        AssessorAssignment.objects.create(evaluation=ev, assessor=c.assessor)
    counts = [_queries(client, url("period_detail", p.pk)) for p in (small, large)]
    assert counts[0] == counts[1] and counts[1] <= 20, counts
    counts = [_queries(client, url("period_list")) for _ in (0, 1)]
    assert counts[0] == counts[1]


@pytest.mark.parametrize("persona", ["staff", "assessor", "secretary_a"])
def test_the_evaluation_page_runs_a_constant_number_of_queries(client, company, standard, persona):
    c = company
    small = services.open_period(c.staff, c.committee, "2026-01", submit_due=D(2026, 1, 25),
                                 self_due=D(2026, 1, 28), assess_due=D(2026, 2, 5)).evaluations.get(org=c.branch_a)
    larger = services.open_period(c.staff, c.committee, "2026-02", submit_due=D(2026, 2, 25),
                                  self_due=D(2026, 2, 26), assess_due=D(2026, 2, 27)).evaluations.get(org=c.branch_a)
    for ev in (small, larger):
        submit(c, ev)
        self_assess(c, ev)
    for ei in larger.items.all()[:5]:
        services.upload_evidence(c.assessor, larger, upload("现场.png", png_bytes()), eval_item=ei, kind="photo")
    assert Evaluation.objects.get(pk=larger.pk).evidence.count() == 5
    client.force_login(getattr(c, persona))
    counts = [_queries(client, url("evaluation_detail", ev.pk)) for ev in (small, larger)]
    assert counts[0] == counts[1] and counts[1] <= 20, counts
