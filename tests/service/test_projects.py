"""Social-responsibility projects (service.projects) and their pages and API: create and edit, milestones (overdue
ones stand out, done with a date), indicators with values over time, progress, exports, scope."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import ApiToken
from dangjian.service import projects
from dangjian.service.models import Indicator, IndicatorValue, Milestone, Project

D = Decimal
TODAY = datetime.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(projects, "today", lambda: TODAY)


@pytest.fixture
def pv(company):
    """光伏扶贫 at branch A: two milestones (one overdue), an income indicator with two values."""
    p = projects.create_project(company.secretary_a, company.branch_a, name="光伏扶贫电站", kind="pv_poverty",
                                goal="建成200kW村级光伏电站，年发电收益用于村集体增收", state="running",
                                starts_on=datetime.date(2026, 1, 10), ends_on=datetime.date(2026, 12, 31))
    projects.add_milestone(company.secretary_a, p, title="电站并网", due_on=datetime.date(2026, 5, 30))
    projects.add_milestone(company.secretary_a, p, title="年度收益分配", due_on=datetime.date(2026, 10, 31))
    ind = projects.add_indicator(company.secretary_a, p, name="年发电收益", unit="元", baseline="0", target="190000")
    projects.add_value(company.secretary_a, ind, on=datetime.date(2026, 9, 30), value="120000")
    projects.add_value(company.secretary_a, ind, on=datetime.date(2026, 10, 31), value="152000")
    return p


def test_progress_flags_overdue_and_percent(pv, company):
    m = pv.milestones.get(title="电站并网")
    projects.complete_milestone(company.secretary_a, m, datetime.date(2026, 6, 3))
    prog = projects.progress(pv)
    assert (prog.done, prog.overdue, prog.percent_milestones) == (1, 1, 50)
    late = {x.title: x for x in prog.milestones}
    assert late["电站并网"].late and not late["电站并网"].overdue
    assert late["年度收益分配"].overdue
    ip = prog.indicators[0]
    assert ip.latest.value == D("152000.00") and ip.percent == D("80.0")
    assert projects.chart_data(prog)[0]["values"] == [120000.0, 152000.0]


@pytest.mark.parametrize("bad", [
    {"name": ""}, {"goal": ""}, {"kind": "nonsense"}, {"starts_on": "2026-13-01"},
    {"starts_on": datetime.date(2026, 5, 1), "ends_on": datetime.date(2026, 4, 1)}, {"name": "长" * 101},
])
def test_bad_project_input_changes_nothing(company, bad):
    data = {"name": "便民服务点", "kind": "service_point", "goal": "便民", "starts_on": datetime.date(2026, 3, 1)}
    data.update(bad)
    with pytest.raises(DomainError):
        projects.create_project(company.secretary_a, company.branch_a, **data)
    assert not Project.objects.exists()


def test_other_branch_cannot_write(company, pv):
    with pytest.raises(AccessDenied):
        projects.update_project(company.secretary_b, pv, name="改名")
    with pytest.raises(AccessDenied):
        projects.add_value(company.secretary_b, pv.indicators.get(), on=TODAY, value="1")
    pv.refresh_from_db()
    assert pv.name == "光伏扶贫电站" and IndicatorValue.objects.count() == 2


def test_value_rules(company, pv):
    ind = pv.indicators.get()
    for kw, field in (({"on": datetime.date(2026, 10, 31), "value": "1"}, "on"),  # one a day
                      ({"on": datetime.date(2026, 12, 1), "value": "1"}, "on"),  # future
                      ({"on": TODAY, "value": "abc"}, "value"),
                      ({"on": TODAY, "value": "1.234"}, "value"),
                      ({"on": TODAY, "value": "1e20"}, "value")):
        with pytest.raises(DomainError) as exc:
            projects.add_value(company.secretary_a, ind, **kw)
        assert exc.value.field == field
    assert IndicatorValue.objects.count() == 2


def test_milestone_done_not_in_future(company, pv):
    m = pv.milestones.first()
    with pytest.raises(DomainError):
        projects.complete_milestone(company.secretary_a, m, datetime.date(2026, 12, 1))
    m.refresh_from_db()
    assert m.done_on is None
    projects.complete_milestone(company.secretary_a, m)
    m.refresh_from_db()
    assert m.done_on == TODAY


def test_duplicate_indicator_refused(company, pv):
    with pytest.raises(DomainError):
        projects.add_indicator(company.secretary_a, pv, name="年发电收益")
    assert Indicator.objects.count() == 1


# ---- pages --------------------------------------------------------------------------------------------------------


def test_detail_page_shows_overdue_and_chart(client, company, pv):
    client.force_login(company.member_user_a)  # a member of the branch reads
    html = client.get(reverse("service:project_detail", args=[pv.pk])).content.decode()
    assert 'data-overdue="1"' in html and "已逾期" in html
    assert 'id="indicator-data"' in html and "vendor/echarts/echarts.min.js" in html
    assert "80.0%" in html
    assert "milestone-form" not in html  # no write forms for a member
    client.force_login(company.secretary_b)
    assert client.get(reverse("service:project_detail", args=[pv.pk])).status_code == 404


def test_create_and_edit_pages(client, company):
    client.force_login(company.secretary_a)
    resp = client.post(reverse("service:project_create"), {
        "org": company.branch_a.pk, "name": "小小新闻发言人", "kind": "spokesperson", "state": "planned",
        "goal": "组织中小学生走进供电所", "starts_on": "2026-09-01"})
    p = Project.objects.get()
    assert resp.status_code == 302 and p.created_by == company.secretary_a
    resp = client.post(reverse("service:project_edit", args=[p.pk]), {
        "name": "小小新闻发言人", "kind": "spokesperson", "state": "running", "goal": "组织中小学生走进供电所",
        "starts_on": "2026-09-01", "ends_on": "2026-08-01"})
    assert resp.status_code == 200 and "计划结束日期不能早于开始日期" in resp.content.decode()
    p.refresh_from_db()
    assert p.state == "planned"


def test_milestone_indicator_and_value_forms(client, company, pv):
    client.force_login(company.secretary_a)
    resp = client.post(reverse("service:project_milestone_add", args=[pv.pk]),
                       {"title": "验收", "due_on": "2026-12-20"})
    assert resp.status_code == 302 and pv.milestones.count() == 3
    resp = client.post(reverse("service:project_milestone_add", args=[pv.pk]), {"title": "", "due_on": ""})
    assert resp.status_code == 400 and pv.milestones.count() == 3
    ind = pv.indicators.get()
    resp = client.post(reverse("service:project_value_add", args=[ind.pk]), {"on": "2026-11-20", "value": "168000"})
    assert resp.status_code == 302 and ind.values.count() == 3
    resp = client.post(reverse("service:project_value_add", args=[ind.pk]), {"on": "2026-11-20", "value": "1"})
    assert resp.status_code == 400 and "已登记过数值" in resp.content.decode()
    m = pv.milestones.get(title="年度收益分配")
    client.post(reverse("service:project_milestone_done", args=[m.pk]), {"done_on": "2026-11-02"})
    m.refresh_from_db()
    assert m.done_on == datetime.date(2026, 11, 2)


def test_list_filters_exports_and_queries(client, company, pv, django_assert_max_num_queries):
    for i in range(12):
        p = projects.create_project(company.staff, company.branch_b, name=f"便民服务点{i}", kind="service_point",
                                    goal="便民", starts_on=datetime.date(2026, 1, 1))
        projects.add_milestone(company.staff, p, title="挂牌", due_on=datetime.date(2026, 2, 1))
    client.force_login(company.staff)
    url = reverse("service:project_list")
    with django_assert_max_num_queries(20):
        html = client.get(url, {"kind": "pv_poverty"}).content.decode()
    assert "光伏扶贫电站" in html and "便民服务点1" not in html
    assert 'data-testid="overdue-badge"' in html
    html = client.get(url, {"org": company.branch_b.pk, "per_page": 50}).content.decode()
    assert "光伏扶贫电站" not in html and "便民服务点11" in html
    ws = load_workbook(io.BytesIO(client.get(url, {"format": "xlsx", "state": "running"}).content)).active
    assert [r[0] for r in ws.values] == ["项目名称", "光伏扶贫电站"]
    ws = load_workbook(io.BytesIO(client.get(reverse("service:project_values_export")).content)).active
    rows = list(ws.values)
    assert len(rows) == 3 and rows[1][2] == "年发电收益" and rows[2][7] == 152000
    # secretary B's export holds none of branch A's values
    client.force_login(company.secretary_b)
    ws = load_workbook(io.BytesIO(client.get(reverse("service:project_values_export")).content)).active
    assert len(list(ws.values)) == 1


# ---- API ----------------------------------------------------------------------------------------------------------


def _h(user):
    return {"Authorization": f"Bearer {ApiToken.issue(user)}"}


def test_api_detail_and_writes(client, company, pv):
    resp = client.get(f"/api/v1/projects/{pv.pk}", headers=_h(company.member_user_a))
    data = resp.json()
    assert data["milestones_overdue"] == 2
    assert D(str(data["indicators"][0]["percent"])) == D("80.0")
    h = _h(company.secretary_a)
    ind = pv.indicators.get()
    resp = client.post(f"/api/v1/projects/{pv.pk}/indicators/{ind.pk}/values",
                       json.dumps({"on": "2026-11-01", "value": "160000"}), content_type="application/json",
                       headers=h)
    assert resp.status_code == 201
    resp = client.post(f"/api/v1/projects/{pv.pk}/indicators/{ind.pk}/values",
                       json.dumps({"on": "2026-11-01", "value": "1"}), content_type="application/json", headers=h)
    assert resp.status_code == 400 and resp.json()["field"] == "on"
    resp = client.patch(f"/api/v1/projects/{pv.pk}", json.dumps({"lead_id": company.member_b.pk}),
                        content_type="application/json", headers=h)
    assert resp.status_code == 400 and resp.json()["field"] == "lead_id"
    resp = client.patch(f"/api/v1/projects/{pv.pk}", json.dumps({"lead_id": company.member_a.pk, "state": "done"}),
                        content_type="application/json", headers=h)
    assert resp.status_code == 200 and resp.json()["lead_name"] == "张三"
    # another project's indicator through this project's path: 404
    other = projects.create_project(company.secretary_a, company.branch_a, name="其他", goal="g",
                                    starts_on=datetime.date(2026, 1, 1))
    resp = client.get(f"/api/v1/projects/{other.pk}/indicators/{ind.pk}/values", headers=h)
    assert resp.status_code == 404


def test_api_list_scope(client, company, pv):
    assert client.get("/api/v1/projects", headers=_h(company.secretary_b)).json()["count"] == 0
    assert client.get("/api/v1/projects?kind=pv_poverty", headers=_h(company.staff)).json()["count"] == 1
    assert Milestone.objects.count() == 2
