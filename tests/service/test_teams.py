"""Service teams and their activities (service.teams): members, participants' hours becoming the members'
volunteer service records (appraisal.ServiceRecord) in the same transaction, the lock of published months, the
month pre-fill picking the hours up, photos."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.appraisal.models import ServiceRecord
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.service import teams
from dangjian.service.models import (
    ActivityPhoto,
    ServiceActivity,
    ServiceParticipation,
    ServiceTeam,
    TeamMember,
)
from tests.appraisal.conftest import line, make_member_set, open_month
from tests.factories import make_member
from tests.service.matrix_teams import jpeg_upload

D = Decimal
OCT9 = datetime.date(2025, 10, 9)


@pytest.fixture
def team(company):
    t = teams.create_team(company.secretary_a, company.branch_a, name="光明先锋共产党员服务队",
                          founded_on=datetime.date(2020, 5, 1))
    teams.add_members(company.secretary_a, t, [company.member_a, company.secretary_member_a])
    return t


def _activity(c, team, **kw):
    data = dict(date=OCT9, title="用电安全宣传", place="城关社区", people_served=25,
                participants=[(c.member_a, None), (c.secretary_member_a, "3")], default_hours="2")
    data.update(kw)
    return teams.create_activity(c.secretary_a, team, **data)


def _records(member):
    return list(ServiceRecord.objects.filter(member=member).values_list("date", "activity", "hours", "people_served",
                                                                         "source"))


# ---- teams and members ------------------------------------------------------------------------------------------


def test_create_team_and_duplicate_name_is_refused(company, team):
    assert team.org == company.branch_a
    with pytest.raises(DomainError) as exc:
        teams.create_team(company.staff, company.branch_a, name="光明先锋共产党员服务队")
    assert exc.value.field == "name"
    assert ServiceTeam.objects.count() == 1


def test_secretary_b_cannot_create_in_branch_a(company):
    with pytest.raises(AccessDenied):
        teams.create_team(company.secretary_b, company.branch_a, name="队")
    assert not ServiceTeam.objects.exists()


def test_members_must_come_from_the_org_subtree(company, team):
    with pytest.raises(DomainError) as exc:
        teams.add_members(company.secretary_a, team, [company.member_b])
    assert "王芳" in exc.value.message
    assert set(TeamMember.objects.filter(team=team).values_list("member__name", flat=True)) == {"张三", "李建国"}


def test_leader_joins_and_removing_the_leader_clears_it(company, team):
    extra = make_member(company.branch_a, "周强")
    teams.update_team(company.secretary_a, team, leader=extra)
    assert TeamMember.objects.filter(team=team, member=extra).exists()
    teams.remove_member(company.secretary_a, team, extra)
    team.refresh_from_db()
    assert team.leader is None


def test_candidates_search_by_pinyin_and_initials(company, team):
    extra = make_member(company.branch_a, "周强")
    assert [m.pk for m in teams.candidates(team, "zhouq")] == [extra.pk]
    assert [m.pk for m in teams.candidates(team, "zq")] == [extra.pk]
    assert teams.candidates(team, "zhangsan") == []  # already in the team
    assert teams.candidates(team, "wangfang") == []  # another branch


# ---- activities and service records ------------------------------------------------------------------------------


def test_activity_writes_one_record_per_participant(company, team):
    a = _activity(company, team)
    assert _records(company.member_a) == [(OCT9, "用电安全宣传", D("2.0"), 13, "服务队")]
    assert _records(company.secretary_member_a) == [(OCT9, "用电安全宣传", D("3.0"), 12, "服务队")]
    parts = {p.member_id: p for p in a.participants.all()}
    assert parts[company.member_a.pk].record.hours == D("2.0")


def test_shares_add_up():
    assert teams.shares(10, [3, 1, 2]) == {1: 4, 2: 3, 3: 3}
    assert sum(teams.shares(7, [5, 6]).values()) == 7
    assert teams.shares(5, []) == {}


def test_participant_outside_the_team_is_refused_unless_added(company, team):
    extra = make_member(company.branch_a, "周强")
    with pytest.raises(DomainError) as exc:
        _activity(company, team, participants=[(extra, "1")])
    assert "周强" in exc.value.message and "同时加入服务队" in exc.value.message
    assert not ServiceActivity.objects.exists() and not ServiceRecord.objects.exists()
    _activity(company, team, participants=[(extra, "1")], add_missing=True)
    assert TeamMember.objects.filter(team=team, member=extra).exists()
    assert _records(extra)[0][2] == D("1.0")


def test_participant_of_another_branch_is_refused_even_with_add_missing(company, team):
    with pytest.raises(DomainError):
        _activity(company, team, participants=[(company.member_b, "1")], add_missing=True)
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize("bad", [
    {"date": datetime.date(2099, 1, 1)}, {"title": ""}, {"place": ""}, {"people_served": -1},
    {"people_served": "abc"}, {"title": "长" * 101},
    {"default_hours": "0"}, {"default_hours": "25"}, {"default_hours": "abc"},
])
def test_bad_input_changes_nothing(company, team, bad):
    with pytest.raises(DomainError):
        _activity(company, team, **bad)
    assert not ServiceActivity.objects.exists()
    assert not ServiceRecord.objects.exists()


def test_missing_hours_without_default_is_refused(company, team):
    with pytest.raises(DomainError) as exc:
        _activity(company, team, default_hours=None)
    assert exc.value.field == "hours"
    assert not ServiceRecord.objects.exists()


def test_hours_over_a_day_are_refused(company, team):
    _activity(company, team, participants=[(company.member_a, "20")])
    with pytest.raises(DomainError) as exc:
        _activity(company, team, title="抢修保电", participants=[(company.member_a, "5")])
    assert "24" in exc.value.message
    assert ServiceActivity.objects.count() == 1
    assert ServiceRecord.objects.filter(member=company.member_a).count() == 1


def test_update_moves_records_with_the_activity(company, team):
    a = _activity(company, team)
    teams.update_activity(company.secretary_a, a, date=datetime.date(2025, 10, 12), title="走访孤寡老人",
                          people_served=4)
    assert _records(company.member_a) == [(datetime.date(2025, 10, 12), "走访孤寡老人", D("2.0"), 2, "服务队")]
    # change one participant's hours, drop the other
    teams.update_activity(company.secretary_a, a, participants=[(company.member_a, "4.5")])
    assert _records(company.member_a)[0][2] == D("4.5")
    assert _records(company.member_a)[0][3] == 4  # the whole share now
    assert _records(company.secretary_member_a) == []
    assert ServiceParticipation.objects.filter(activity=a).count() == 1


def test_delete_removes_records(company, team):
    a = _activity(company, team)
    teams.delete_activity(company.secretary_a, a)
    assert not ServiceRecord.objects.exists()
    assert not ServiceActivity.objects.exists()


def test_archived_team_takes_no_new_activity(company, team):
    teams.archive_team(company.secretary_a, team)
    with pytest.raises(DomainError):
        _activity(company, team)
    assert not ServiceActivity.objects.exists()


# ---- the lock of published months and the pre-fill ---------------------------------------------------------------


def publish_month(company, month="2026-10", org=None):
    """A branch's (A's by default) member evaluation of ``month`` opened for the committee, determined and
    published (the appraisal's own path)."""
    from dangjian.appraisal import close, services
    from dangjian.appraisal.models import AState

    org = org or company.branch_a
    make_member_set(company.committee, year=int(month[:4]))
    period = open_month(company, month)
    for ev in period.evaluations.filter(org=org, exempt=False):
        if ev.state != AState.DETERMINED:
            services.move(company.staff, ev, AState.DETERMINED)
    close.publish_branch(company.staff, period, org)
    return period


@pytest.fixture
def published_october(company):
    return publish_month(company)


def test_published_month_refuses_new_hours(company, team, published_october):
    with pytest.raises(DomainError) as exc:
        _activity(company, team, date=datetime.date(2026, 10, 20))
    assert "已公示" in exc.value.message and "2026年10月" in exc.value.message
    assert not ServiceActivity.objects.exists()
    assert not ServiceRecord.objects.exists()


def test_published_month_refuses_changes_that_touch_records(company, team):
    a = _activity(company, team, date=datetime.date(2026, 10, 8))
    publish_month(company)

    before = _records(company.member_a)
    for change in ({"participants": [(company.member_a, "5")]}, {"date": datetime.date(2026, 11, 2)},
                   {"people_served": 99}):
        with pytest.raises(DomainError):
            teams.update_activity(company.secretary_a, a, **change)
    with pytest.raises(DomainError):
        teams.delete_activity(company.secretary_a, a)
    assert _records(company.member_a) == before
    # what does not reach the records may still change
    teams.update_activity(company.secretary_a, a, content="补充活动内容", place="城关社区服务站")
    a.refresh_from_db()
    assert a.place == "城关社区服务站"
    assert _records(company.member_a) == before


def test_month_prefill_picks_up_the_team_hours(company, team):
    """An activity in October, then the committee opens October: member A's J3 (志愿服务, service_hours) line is
    pre-filled with the activity's whole hours."""
    _activity(company, team, date=datetime.date(2026, 10, 15),
              participants=[(company.member_a, "3.5"), (company.secretary_member_a, None)], default_hours="2")
    make_member_set(company.committee)
    period = open_month(company, "2026-10")
    ev = period.evaluations.get(member=company.member_a)
    assert line(ev, "J3").prefill_count == 3  # 3.5 hours, whole hours
    assert line(period.evaluations.get(member=company.secretary_member_a), "J3").prefill_count == 2


# ---- photos -------------------------------------------------------------------------------------------------------


def test_photo_is_checked_by_content(company, team):
    a = _activity(company, team)
    p = teams.add_photo(company.secretary_a, a, jpeg_upload())
    assert p.content_type == "image/jpeg" and p.size > 0
    fake = SimpleUploadedFile("假.jpg", b"this is not a jpeg at all", content_type="image/jpeg")
    with pytest.raises(DomainError):
        teams.add_photo(company.secretary_a, a, fake)
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF", content_type="application/pdf")
    with pytest.raises(DomainError):
        teams.add_photo(company.secretary_a, a, pdf)
    assert ActivityPhoto.objects.count() == 1


def test_team_totals(company, team):
    _activity(company, team)
    _activity(company, team, date=datetime.date(2025, 9, 3), title="义务检查线路", people_served=10,
              participants=[(company.member_a, "1.5")])
    t = teams.team_totals(team)
    assert (t["activities"], t["people"], t["hours"]) == (2, 35, D("6.5"))
    assert [(m["month"], m["activities"], m["hours"]) for m in t["months"]] == [
        (datetime.date(2025, 10, 1), 1, D("5.0")), (datetime.date(2025, 9, 1), 1, D("1.5"))]
