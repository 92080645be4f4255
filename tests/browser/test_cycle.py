"""The whole monthly cycle of one branch in a real browser (月小结 → 自评 → 现场考评 → 公示 → 异议 → 兑现 → 结果).

The committee's staff open the month through the form with a one-day publicity window (with none, no objection
could be raised: services.raise_objection); the secretary of branch A writes the
月小结, uploads a PDF for an item, self-assesses (one deduction with a remark) and submits; an assessor on a
375×740 phone scores items with a reason and moves the branch to 已考评; the staff publish; the secretary raises
an objection; the staff answer it and finalize; the secretary and a member of the branch find its grade and peer
rank on the results page (the publicity window is made to have passed by moving the publication back two days);
and the database itself refuses to change the finalized month. The other organizations
of the month go through the same services without the browser, so the month can be closed. Screenshots go to
/tmp/shots/cycle-*.png."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from playwright.sync_api import expect

from dangjian.assessments import services
from dangjian.assessments.demo import remove_demo_assessments
from dangjian.assessments.models import (
    Evaluation,
    Evidence,
    Objection,
    Period,
    PeriodStatus,
    Result,
    State,
    Transition,
)
from dangjian.standards.models import Method
from dangjian.standards.services import load_default_set
from tests.browser.conftest import login, no_horizontal_scroll, shot

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _through_assessment(c, ev):
    """An organization's month done through the services: reported, self-assessed, assessed."""
    services.save_summary(c.staff, ev, "本月召开支委会1次、党员大会1次，开展主题党日。")
    services.move(c.staff, ev, State.SUBMITTED)
    for ei in ev.items.all():
        services.score_item(c.staff, ei, "self", ei.max_points)
    services.move(c.staff, ev, State.SELF_ASSESSED)
    for n, ei in enumerate(ev.items.all()):
        if n == 0:
            services.score_item(c.assessor, ei, "assessor", ei.max_points - 1, reason="党小组会记录不全")
        else:
            services.score_item(c.assessor, ei, "assessor", ei.max_points)
    services.move(c.assessor, ev, State.ASSESSED)


def _card(page, ei):
    return page.locator(f"#item-{ei.pk}")


def test_a_month_from_opening_to_results(browser_company, new_page, settings, tmp_path):
    c = browser_company
    settings.MEDIA_ROOT = tmp_path
    load_default_set(c.staff, c.committee, timezone.localdate().year, publish=True)
    try:
        _cycle(c, new_page, tmp_path)
    finally:
        # The flush after a transactional test deletes rows; a finalized month refuses that (triggers).
        with transaction.atomic():
            remove_demo_assessments(c.committee)


def _cycle(c, new_page, tmp_path):
    staff = new_page()
    staff.on("dialog", lambda d: d.accept())
    login(staff, "staff")

    # 1. The staff open this month through the form, with a publicity window of one day.
    staff.goto("/assessments/new/")
    staff.select_option("#id_owner", str(c.committee.pk))
    staff.fill("#id_objection_days", "1")
    with staff.expect_navigation():
        staff.locator("form button[type=submit]").click()
    period = Period.objects.get(owner=c.committee)
    assert period.objection_days == 1 and period.month == timezone.localdate().replace(day=1)
    expect(staff.locator("[data-testid=coverage-table]")).to_contain_text("变电运维党支部")
    ev = period.evaluations.get(org=c.branch_a)
    for other in period.evaluations.exclude(pk=ev.pk):
        _through_assessment(c, other)

    # 2. The secretary of branch A reports, uploads a PDF for an item, self-assesses and submits.
    sec = new_page()
    login(sec, "secretary_a")
    sec.goto(f"/assessments/evaluations/{ev.pk}/")
    sec.fill("textarea[name=summary]", "本月召开支委会1次、党员大会1次，开展“迎峰度夏保供电”主题党日，组织党员集中学习。")
    with sec.expect_navigation():
        sec.get_by_role("button", name="保存月小结").click()
    with sec.expect_navigation():
        sec.locator("[data-testid=move-submitted]").click()
    expect(sec.locator("h1")).to_contain_text("已报送")
    items = list(ev.items.select_related("item").order_by("id"))
    first, second = items[0], items[1]
    pdf = tmp_path / "支委会会议记录.pdf"
    pdf.write_bytes(PDF)
    form = _card(sec, first).locator("[data-testid=evidence-form]")
    form.locator("input[type=file]").set_input_files(str(pdf))
    with sec.expect_navigation():
        form.get_by_role("button", name="上传资料").click()
    expect(_card(sec, first).locator("[data-testid=file-link]")).to_have_text("支委会会议记录.pdf")
    assert Evidence.objects.get(eval_item=first).content_type == "application/pdf"
    _card(sec, first).locator("input[name=score]").fill(str(first.max_points))
    _card(sec, first).get_by_role("button", name="保存自评").click()
    expect(_card(sec, first).get_by_text("已保存")).to_be_visible()
    _card(sec, second).locator("input[name=score]").fill(str(second.max_points - 1))
    _card(sec, second).locator("textarea[name=reason]").fill("本月党小组会少开1次")
    _card(sec, second).get_by_role("button", name="保存自评").click()
    expect(_card(sec, second).locator("[data-testid=self-score]")).to_have_text(str(second.max_points - 1))
    for ei in items[2:]:  # the remaining self-assessed items, as the secretary would fill them
        if Method.SELF in ei.item.methods:
            services.score_item(c.secretary_a, ei, "self", ei.max_points)
    sec.reload()
    with sec.expect_navigation():
        sec.locator("[data-testid=move-self_assessed]").click()
    expect(sec.locator("h1")).to_contain_text("已自评")
    shot(sec, "cycle-self-assessed")

    # 3. An assessor on a phone scores items with a reason and submits the assessment.
    phone = new_page(phone=True)
    phone.set_viewport_size({"width": 375, "height": 740})
    login(phone, "assessor")
    phone.goto(f"/assessments/evaluations/{ev.pk}/")
    assert no_horizontal_scroll(phone)
    _card(phone, first).locator("input[name=score]").fill(str(first.max_points))
    _card(phone, first).get_by_role("button", name="保存考评").click()
    expect(_card(phone, first).get_by_text("已保存")).to_be_visible()
    deducted = second.max_points - Decimal("1.5")
    _card(phone, second).locator("input[name=score]").fill(str(deducted))
    _card(phone, second).locator("textarea[name=reason]").fill("党小组会少开1次，会议记录缺签到")
    _card(phone, second).get_by_role("button", name="保存考评").click()
    expect(_card(phone, second).locator("[data-testid=assessor-score]")).to_have_text(str(deducted))
    for ei in items[2:]:
        services.score_item(c.assessor, ei, "assessor", ei.max_points)
    phone.reload()
    with phone.expect_navigation():
        phone.locator("[data-testid=move-assessed]").click()
    expect(phone.locator("h1")).to_contain_text("已考评")
    assert no_horizontal_scroll(phone)
    shot(phone, "cycle-assessed-phone")

    # 4. The staff publish the month.
    staff.goto(f"/assessments/{period.pk}/")
    with staff.expect_navigation():
        staff.locator("[data-testid=publish-all]").click()
    assert set(period.evaluations.values_list("state", flat=True)) == {State.PUBLISHED}

    # 5. The secretary raises an objection on the deducted item.
    sec.goto(f"/assessments/evaluations/{ev.pk}/")
    sec.locator("[data-testid=raise-objection]").click()
    sec.select_option("#objection-item", str(second.pk))
    sec.fill("#objection-text", "党小组会已补开，会议记录和签到表已归档，请复核。")
    with sec.expect_navigation():
        sec.get_by_role("button", name="提交异议").click()
    expect(sec.locator("h1")).to_contain_text("有异议")

    # 6. The staff answer it (not upheld) and finalize the month.
    staff.goto(f"/assessments/evaluations/{ev.pk}/")
    answer = staff.locator("[data-testid=answer-objection]")
    expect(answer).to_contain_text("党小组会已补开")
    answer.locator("#answer-text").fill("经复核，补开的会议不在本月，维持原评分。")
    answer.locator("#upheld-0").check()
    with staff.expect_navigation():
        answer.locator("button").click()
    objection = Objection.objects.get(evaluation=ev)
    assert objection.upheld is False and objection.eval_item_id == second.pk
    staff.goto(f"/assessments/{period.pk}/")
    expect(staff.locator("[data-testid=finalize]")).to_be_disabled()  # the publicity window is still open
    expect(staff.locator("[data-testid=publicity-until]")).to_contain_text("公示期至")
    published = Transition.objects.filter(evaluation__period=period, to_state=State.PUBLISHED)
    for t in published:  # two days later
        Transition.objects.filter(pk=t.pk).update(at=t.at - datetime.timedelta(days=2))
    staff.reload()
    with staff.expect_navigation():
        staff.locator("[data-testid=finalize]").click()
    expect(staff.locator("[data-testid=results-link]")).to_be_visible()
    period.refresh_from_db()
    assert period.status == PeriodStatus.FINALIZED

    # 7. The secretary and a member of branch A see its grade and peer rank.
    result = Result.objects.get(period=period, org=c.branch_a)
    assert result.total == Evaluation.objects.get(pk=ev.pk).max_total - Decimal("1.5")
    member = new_page(phone=True)
    login(member, "member_a")
    for page in (sec, member):
        page.goto(f"/assessments/{period.pk}/results/")
        row = page.locator(f"#results-table #result-{result.pk}")
        expect(row).to_contain_text("变电运维党支部")
        expect(row.locator("[data-testid=grade]")).to_have_text(result.grade)
        expect(row.locator("[data-testid=peer-rank]")).to_have_text(f"{result.peer_rank}/{result.peer_size}")
        expect(page.locator("#results-table")).not_to_contain_text("机关第一党支部")
    shot(member, "cycle-results-member-phone")

    # 8. The finalized month is locked in the database itself.
    for sql, pk in (("UPDATE assessments_result SET total = 100 WHERE id = %s", result.pk),
                    ("UPDATE assessments_evalitem SET assessor_score = max_points WHERE id = %s", second.pk)):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [pk])
    assert Result.objects.get(pk=result.pk).total == result.total
