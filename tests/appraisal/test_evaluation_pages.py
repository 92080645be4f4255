"""The pages of the monthly member evaluation: the member self-evaluates on the phone page and submits, the
secretary determines the whole branch on one page and publishes, conflicts keep what was typed, outsiders and
the other branch get 404, bad input changes nothing, and the pages run a constant number of queries.
Fixtures: tests/appraisal/conftest.py (the member set, October opened for the committee)."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from dangjian.appraisal import services
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvidence,
    MemberLine,
    MemberResult,
    PeriodStatus,
)
from dangjian.core.models import AuditEvent
from tests.appraisal.conftest import determine_all, line, open_month
from tests.factories import make_member, make_org

D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def url(name, *args):
    return reverse(f"appraisal:{name}", args=args)


def self_post(ev, values: dict, **extra) -> dict:
    """The whole self-evaluation form as the page posts it: every line with its version, ``values`` by item
    code: count or (count, remark)."""
    data = {"mode": "self", **extra}
    for ln in ev.lines.select_related("item"):
        count, claim = ln.self_count or 0, ln.claim
        if ln.item.code in values:
            v = values[ln.item.code]
            count, claim = v if isinstance(v, tuple) else (v, claim)
        data[f"count-{ln.pk}"] = str(count)
        data[f"text-{ln.pk}"] = claim
        data[f"version-{ln.pk}"] = str(ln.version)
    return data


def png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    return SimpleUploadedFile("抢修现场.png", buf.getvalue(), content_type="image/png")


# ---- the member's self-evaluation ---------------------------------------------------------------------------


def test_my_month_takes_the_member_to_the_open_month(login, company, eval_a):
    client = login(company.member_user_a)
    resp = client.get(url("my_month"))
    assert resp.status_code == 302 and resp["Location"] == url("evaluation_detail", eval_a.pk)


def test_my_month_without_an_open_month_shows_the_history(login, company, member_set):
    resp = login(company.member_user_a).get(url("my_month"))
    assert resp.status_code == 302 and resp["Location"] == url("my_history")
    page = login(company.member_user_a).get(url("my_history"))
    assert "还没有公示的月度评价结果" in page.content.decode()


def test_the_self_evaluation_page_groups_items_by_part_with_steppers(login, company, eval_a):
    html = login(company.member_user_a).get(url("evaluation_detail", eval_a.pk)).content.decode()
    for part in ("基础分", "奖励分", "减项分", "一票否决"):
        assert part in html
    assert html.count('data-testid="prefill"') == 3  # B1, B2 and J3 are fed by records
    assert "ap-plus-btn" in html and "提交自评" in html and 'id="live-total"' in html
    assert "appraisal/evaluation.js" in html


def test_member_self_evaluates_through_the_page_and_submits(login, company, eval_a):
    client = login(company.member_user_a)
    data = self_post(eval_a, {"J1": (2, "10月讲授微党课两次")}, submit="1", self_note="本月工作正常")
    resp = client.post(url("evaluation_save", eval_a.pk), data)
    assert resp.status_code == 302
    eval_a.refresh_from_db()
    assert eval_a.state == AState.SELF_EVALUATED
    assert eval_a.self_total == D("64.0")
    assert eval_a.self_note == "本月工作正常"
    assert line(eval_a, "J1").claim == "10月讲授微党课两次"
    assert AuditEvent.objects.filter(action="appraisal.self_line").count() == 1
    html = client.get(url("evaluation_detail", eval_a.pk)).content.decode()
    assert "已自评" in html and "提交自评 " not in html
    assert 'name="count-' not in html  # read-only after submitting


def test_a_claim_without_a_remark_is_refused_and_nothing_is_saved(login, company, eval_a):
    client = login(company.member_user_a)
    resp = client.post(url("evaluation_save", eval_a.pk), self_post(eval_a, {"K1": 1}, submit="1"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "请写明事由" in html
    assert 'value="1"' in html  # the typed count is still on the page
    eval_a.refresh_from_db()
    assert eval_a.state == AState.NOT_STARTED
    assert line(eval_a, "K1").self_count == 0


def test_bad_count_gives_a_chinese_error_and_changes_nothing(login, company, eval_a):
    client = login(company.member_user_a)
    before = eval_a.self_total
    resp = client.post(url("evaluation_save", eval_a.pk), self_post(eval_a, {"J1": ("abc", "x"), "J3": 2}))
    assert resp.status_code == 200
    assert "次数应为 0 至 99 的整数" in resp.content.decode()
    assert line(eval_a, "J3").self_count == 0 and line(eval_a, "J1").self_count == 0
    eval_a.refresh_from_db()
    assert eval_a.self_total == before and eval_a.version == 0


def test_a_conflict_shows_the_chinese_message_and_keeps_the_typed_value(login, company, eval_a):
    data = self_post(eval_a, {"J1": (3, "讲党课三次")})
    services.save_self_line(company.secretary_a, line(eval_a, "J1"), 1, claim="支部代填")
    resp = login(company.member_user_a).post(url("evaluation_save", eval_a.pk), data)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "请刷新后再保存" in html and "讲党课三次" in html
    assert line(eval_a, "J1").self_count == 1


def test_evidence_upload_download_and_withdraw_on_an_item(login, company, eval_a):
    client = login(company.member_user_a)
    j2 = line(eval_a, "J2")
    resp = client.post(url("evidence_upload", eval_a.pk), {"line": j2.pk, "file": png()})
    assert resp.status_code == 302
    evidence = MemberEvidence.objects.get(line=j2)
    got = client.get(url("evidence_download", evidence.pk))
    assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
    assert login(company.secretary_b).get(url("evidence_download", evidence.pk)).status_code == 404
    bad = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    login(company.member_user_a).post(url("evidence_upload", eval_a.pk), {"line": j2.pk, "file": bad})
    assert MemberEvidence.objects.filter(evaluation=eval_a).count() == 1
    client.post(url("evidence_withdraw", evidence.pk))
    evidence.refresh_from_db()
    assert evidence.withdrawn_at is not None


def test_member_cannot_open_another_members_evaluation(login, company, appraisal_period):
    ev_b = appraisal_period.evaluations.get(member=company.member_b)
    client = login(company.member_user_a)
    assert client.get(url("evaluation_detail", ev_b.pk)).status_code == 404
    assert client.post(url("evaluation_save", ev_b.pk), self_post(ev_b, {"J1": (1, "x")})).status_code == 404
    assert line(ev_b, "J1").self_count == 0


@pytest.mark.parametrize("persona", ["outsider", "secretary_b"])
def test_outsider_and_the_other_secretary_get_404_on_branch_a(login, company, appraisal_period, eval_a, persona):
    client = login(getattr(company, persona))
    assert client.get(url("evaluation_detail", eval_a.pk)).status_code == 404
    assert client.get(url("branch_month", appraisal_period.pk, company.branch_a.pk)).status_code == 404
    assert client.post(url("branch_publish", appraisal_period.pk, company.branch_a.pk)).status_code == 404
    assert client.post(url("evaluation_move", eval_a.pk), {"to_state": "self_evaluated"}).status_code == 404
    assert client.post(url("evaluation_exempt", eval_a.pk), {"exempt": "1", "reason": "x"}).status_code == 404
    assert client.post(url("period_close", appraisal_period.pk)).status_code == 404
    eval_a.refresh_from_db()
    assert eval_a.state == AState.NOT_STARTED and not eval_a.exempt


# ---- the secretary's determination -------------------------------------------------------------------------


def test_secretary_determines_the_branch_on_one_page_and_publishes(login, company, appraisal_period, eval_a):
    services.save_self_line(company.member_user_a, line(eval_a, "J1"), 2, claim="讲微党课两次")
    services.move(company.member_user_a, eval_a, AState.SELF_EVALUATED)
    client = login(company.secretary_a)
    page = client.get(url("branch_month", appraisal_period.pk, company.branch_a.pk))
    html = page.content.decode()
    j1 = line(eval_a, "J1")
    assert f'name="count-{j1.pk}"' in html and "讲微党课两次" in html
    assert f'name="ev" value="{eval_a.pk}"' in html and "disabled" in html  # 公示 waits
    other = appraisal_period.evaluations.get(member=company.secretary_member_a)
    data = {"ev": [eval_a.pk, other.pk], f"count-{j1.pk}": "1", f"text-{j1.pk}": "只核实到一次",
            f"version-{j1.pk}": str(j1.version)}
    resp = client.post(url("branch_month", appraisal_period.pk, company.branch_a.pk), data)
    assert resp.status_code == 302
    eval_a.refresh_from_db()
    assert eval_a.state == AState.DETERMINED and eval_a.total == D("62.0")
    assert line(eval_a, "J1").reason == "只核实到一次"
    resp = client.post(url("branch_publish", appraisal_period.pk, company.branch_a.pk))
    assert resp.status_code == 302
    assert BranchAggregate.objects.filter(period=appraisal_period, org=company.branch_a).exists()
    html = client.get(url("branch_month", appraisal_period.pk, company.branch_a.pk)).content.decode()
    assert "公示结果" in html and "62.0" in html
    # the member sees the determined count and the branch's reason, rank and history
    mine = login(company.member_user_a).get(url("evaluation_detail", eval_a.pk)).content.decode()
    assert "只核实到一次" in mine and "支部内排名" in mine and "已公示" in mine
    history = login(company.member_user_a).get(url("my_history")).content.decode()
    assert "62.0" in history and "vendor/echarts/echarts.min.js" in history and 'id="trend-data"' in history


def test_a_determination_without_a_reason_names_the_member_and_changes_nothing(login, company, appraisal_period,
                                                                                eval_a):
    j1 = line(eval_a, "J1")
    client = login(company.secretary_a)
    other = appraisal_period.evaluations.get(member=company.secretary_member_a)
    data = {"ev": [eval_a.pk, other.pk], f"count-{j1.pk}": "2", f"text-{j1.pk}": "", f"version-{j1.pk}": "0"}
    # J1 is not reported, so it is not on the branch page; posted anyway it is checked like any other line
    resp = client.post(url("branch_month", appraisal_period.pk, company.branch_a.pk), data)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "张三" in html and "请写明理由" in html
    other.refresh_from_db()
    eval_a.refresh_from_db()
    assert other.state == AState.NOT_STARTED and eval_a.state == AState.NOT_STARTED
    assert line(eval_a, "J1").count is None


def test_secretary_determines_one_member_on_the_detail_page(login, company, eval_a):
    client = login(company.secretary_a)
    html = client.get(url("evaluation_detail", eval_a.pk)).content.decode()
    assert "评定理由" in html and 'data-testid="determine"' in html
    k1 = line(eval_a, "K1")
    data = {"mode": "determine", "determine": "1", f"count-{k1.pk}": "1", f"text-{k1.pk}": "10月违章一次",
            f"version-{k1.pk}": str(k1.version)}
    assert client.post(url("evaluation_save", eval_a.pk), data).status_code == 302
    eval_a.refresh_from_db()
    assert eval_a.state == AState.DETERMINED and eval_a.total == D("57.0")  # 40 + 0 (no dues) + 20 − 3
    client.post(url("evaluation_move", eval_a.pk), {"to_state": AState.SELF_EVALUATED})
    eval_a.refresh_from_db()
    assert eval_a.state == AState.SELF_EVALUATED


def test_exempting_needs_a_reason(login, company, eval_a):
    client = login(company.secretary_a)
    client.post(url("evaluation_exempt", eval_a.pk), {"exempt": "1", "reason": ""})
    eval_a.refresh_from_db()
    assert not eval_a.exempt
    client.post(url("evaluation_exempt", eval_a.pk), {"exempt": "1", "reason": "长期外出流动"})
    eval_a.refresh_from_db()
    assert eval_a.exempt and eval_a.exempt_reason == "长期外出流动"


# ---- the months -------------------------------------------------------------------------------------------


def test_staff_open_a_month_through_the_form(login, company, member_set):
    client = login(company.staff)
    assert client.get(url("period_create")).status_code == 200
    resp = client.post(url("period_create"), {"owner": company.committee.pk, "month": "2026-10",
                                              "self_due": "2026-10-25", "determine_due": "2026-10-31"})
    period = AppraisalPeriod.objects.get()
    assert resp.status_code == 302 and resp["Location"] == url("period_detail", period.pk)
    assert period.standard_set == member_set and period.evaluations.count() == 4
    bad = client.post(url("period_create"), {"owner": company.committee.pk, "month": "2026-11",
                                             "self_due": "2026-10-25", "determine_due": "2026-10-31"})
    assert "截止日期应依次为" in bad.content.decode()
    assert AppraisalPeriod.objects.count() == 1


def test_period_detail_shows_progress_per_branch_and_exports(login, company, appraisal_period):
    client = login(company.staff)
    html = client.get(url("period_detail", appraisal_period.pk)).content.decode()
    assert company.branch_a.name in html and company.branch_b.name in html
    assert url("branch_month", appraisal_period.pk, company.branch_a.pk) in html
    assert "公示已评定完成的支部" in html and "结束本月评价" in html
    resp = client.get(url("period_detail", appraisal_period.pk), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "支部" and {r[0] for r in rows[1:]} >= {company.branch_a.name, company.branch_b.name}


def test_a_member_sees_only_their_own_month_on_the_period_page(login, company, appraisal_period, eval_a):
    html = login(company.member_user_a).get(url("period_detail", appraisal_period.pk)).content.decode()
    assert url("evaluation_detail", eval_a.pk) in html
    assert company.branch_b.name not in html and "结束本月评价" not in html


def test_staff_publish_ready_branches_and_close_the_month(login, company, appraisal_period):
    client = login(company.staff)
    resp = client.post(url("period_close", appraisal_period.pk))
    assert resp.status_code == 302
    appraisal_period.refresh_from_db()
    assert appraisal_period.status == PeriodStatus.OPEN  # refused: nobody is determined yet
    determine_all(company.secretary_a, appraisal_period, company.branch_a)
    client.post(url("period_publish_ready", appraisal_period.pk))
    assert MemberResult.objects.filter(org=company.branch_a).count() == 2
    for org in (company.branch_b, company.branch_c):
        determine_all(company.staff, appraisal_period, org)
    client.post(url("period_close", appraisal_period.pk))
    appraisal_period.refresh_from_db()
    assert appraisal_period.status == PeriodStatus.CLOSED


def test_the_period_list_shows_months_to_secretaries_and_not_to_outsiders(login, company, appraisal_period):
    html = login(company.secretary_a).get(url("period_list")).content.decode()
    assert url("period_detail", appraisal_period.pk) in html
    assert login(company.outsider).get(url("period_list")).status_code == 404


# ---- query counts -------------------------------------------------------------------------------------------


def _branch_with(company, n):
    org = make_org(parent=company.general)
    for i in range(n):
        make_member(org, f"党员{i:02d}")
    return org


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_pages_run_a_constant_number_of_queries_for_5_and_30_members(login, company, member_set):
    small, big = _branch_with(company, 5), _branch_with(company, 30)
    period = open_month(company)
    for ev in period.evaluations.filter(org__in=[small, big]):
        services.save_self_line(company.staff, line(ev, "J1"), 1, claim="讲党课")
        services.save_self_line(company.staff, line(ev, "K1"), 1, claim="违章")
        services.move(company.staff, ev, AState.SELF_EVALUATED)
    client = login(company.staff)
    n_small = _queries(client, url("branch_month", period.pk, small.pk))
    n_big = _queries(client, url("branch_month", period.pk, big.pk))
    assert n_small == n_big
    assert _queries(client, url("period_detail", period.pk)) < 20
    determine_all(company.staff, period, small)
    determine_all(company.staff, period, big)
    from dangjian.appraisal import close

    close.publish_ready(company.staff, period)
    assert (_queries(client, url("branch_month", period.pk, small.pk))
            == _queries(client, url("branch_month", period.pk, big.pk)))


def test_the_detail_page_runs_a_fixed_number_of_queries(login, company, eval_a, django_assert_max_num_queries):
    client = login(company.member_user_a)
    with django_assert_max_num_queries(25):
        client.get(url("evaluation_detail", eval_a.pk))
    assert MemberLine.objects.filter(evaluation=eval_a).count() == 8


def test_a_member_opening_the_months_list_is_taken_to_their_own_month(login, company, eval_a):
    resp = login(company.member_user_a).get(url("period_list"))
    assert resp.status_code == 302 and resp["Location"] == url("my_month")
