"""The PDCA ticket services: each transition and what it needs, refusals (wrong role, wrong state, stale version),
history rows and audit events, step fields, actions with evidence, overdue tickets and the reminders."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from dangjian.core.access import AccessDenied
from dangjian.core.errors import ConflictError, DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Role
from dangjian.service import tickets as services
from dangjian.service.models import (
    NeedCategory,
    Origin,
    Satisfaction,
    ServiceArea,
    Ticket,
    TicketAction,
    TicketEvidence,
    TicketTransition,
    TState,
)
from tests.factories import make_user
from tests.service.tickets_helpers import need_ticket, pdf, plan, png, staff_ticket, to_state

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _history(t):
    return list(TicketTransition.objects.filter(ticket=t).values_list("from_state", "to_state"))


# ---- opening -----------------------------------------------------------------------------------------------------


def test_staff_opens_a_ticket_in_plan_with_a_number_and_a_history_row(company):
    t = staff_ticket(company)
    assert t.state == TState.PLAN and t.origin == Origin.STAFF and t.version == 1
    assert t.number.startswith("GD") and t.number.endswith(f"{t.pk:06d}")
    assert _history(t) == [("plan", "plan")]
    assert AuditEvent.objects.filter(action="ticket.opened", object_id=str(t.pk)).exists()


def test_secretary_opens_a_ticket_only_in_her_branch(company):
    t = services.open_staff_ticket(company.secretary_a, company.branch_a, title="表计箱锈蚀",
                                   description="幸福小区 5 栋表计箱锈蚀严重。")
    assert t.org == company.branch_a
    with pytest.raises(AccessDenied):
        services.open_staff_ticket(company.secretary_a, company.branch_b, title="x", description="y")
    with pytest.raises(AccessDenied):
        services.open_staff_ticket(company.member_user_a, company.branch_a, title="x", description="y")
    assert Ticket.objects.count() == 1


def test_opening_refuses_an_empty_title_and_a_past_due_date(company):
    with pytest.raises(DomainError) as e:
        services.open_staff_ticket(company.staff, company.branch_a, title=" ", description="y")
    assert e.value.field == "title"
    with pytest.raises(DomainError) as e:
        services.open_staff_ticket(company.staff, company.branch_a, title="x", description="y",
                                   due_date=TODAY - datetime.timedelta(days=1))
    assert e.value.field == "due_date"
    assert not Ticket.objects.exists()


# ---- the whole loop ----------------------------------------------------------------------------------------------


def test_a_need_ticket_runs_the_whole_pdca_and_every_move_is_history(company):
    t = need_ticket(company)
    t = to_state(company.secretary_a, t, TState.CLOSED)
    assert t.state == TState.CLOSED and t.closed_at is not None
    assert _history(t) == [("plan", "plan"), ("plan", "do"), ("do", "check"), ("check", "act"), ("act", "closed")]
    assert all(r.actor == company.secretary_a for r in t.transitions.exclude(from_state="plan", to_state="plan"))
    codes = list(AuditEvent.objects.filter(object_id=str(t.pk), action__startswith="ticket.")
                 .order_by("id").values_list("action", flat=True))
    assert codes.count("ticket.moved") == 3 and codes[-1] == "ticket.closed"
    assert t.version == 1 + 3 + 4  # three saves of step fields (plan, check, act), four moves


def test_plan_to_do_needs_analysis_measures_and_a_due_date(company):
    t = staff_ticket(company)
    for field, changes in (("analysis", {}), ("measures", {"analysis": "原因"}),
                           ("due_date", {"measures": "措施"})):
        if changes:
            t = services.save_fields(company.secretary_a, t, changes, version=t.version)
        with pytest.raises(DomainError) as e:
            services.move(company.secretary_a, t, TState.DO, version=t.version)
        assert e.value.field == field
    t.refresh_from_db()
    assert t.state == TState.PLAN and _history(t) == [("plan", "plan")]


def test_do_to_check_needs_an_action(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.DO)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.CHECK, version=t.version)
    assert e.value.field == "actions"
    services.add_action(company.secretary_a, t, date=TODAY, text="更换变压器。")
    t = services.move(company.secretary_a, t, TState.CHECK, version=t.version)
    assert t.state == TState.CHECK


def test_check_to_act_needs_verification_and_for_a_need_the_callback(company):
    t = to_state(company.secretary_a, need_ticket(company), TState.CHECK)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.ACT, version=t.version)
    assert e.value.field == "verification"
    t = services.save_fields(company.secretary_a, t, {"verification": "复测合格"}, version=t.version)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.ACT, version=t.version)
    assert e.value.field == "satisfaction"
    t = services.save_fields(company.secretary_a, t, {"satisfaction": Satisfaction.FAIRLY}, version=t.version)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.ACT, version=t.version)
    assert e.value.field == "callback_on"
    t = services.save_fields(company.secretary_a, t, {"callback_on": TODAY}, version=t.version)
    assert services.move(company.secretary_a, t, TState.ACT, version=t.version).state == TState.ACT


def test_a_staff_ticket_needs_no_callback(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.CHECK)
    t = services.save_fields(company.secretary_a, t, {"verification": "复测合格"}, version=t.version)
    assert services.move(company.secretary_a, t, TState.ACT, version=t.version).state == TState.ACT


def test_closing_needs_standardization_and_for_a_complaint_similar_cases(company):
    t = to_state(company.secretary_a, need_ticket(company, category=NeedCategory.COMPLAINT), TState.ACT)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.CLOSED, version=t.version)
    assert e.value.field == "standardization"
    t = services.save_fields(company.secretary_a, t, {"standardization": "建立巡视制度", "recurrence": True},
                             version=t.version)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.CLOSED, version=t.version)
    assert e.value.field == "similar_cases"
    t = services.save_fields(company.secretary_a, t, {"similar_cases": "排查 8 个小区"}, version=t.version)
    t = services.move(company.secretary_a, t, TState.CLOSED, version=t.version)
    assert t.state == TState.CLOSED and t.recurrence is True


def test_check_returns_to_do_with_a_reason(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.CHECK)
    with pytest.raises(DomainError) as e:
        services.move(company.secretary_a, t, TState.DO, version=t.version, reason="  ")
    assert e.value.field == "reason"
    t = services.move(company.secretary_a, t, TState.DO, version=t.version, reason="复测电压仍偏低")
    assert t.state == TState.DO
    last = t.transitions.last()
    assert (last.from_state, last.to_state, last.reason) == ("check", "do", "复测电压仍偏低")
    assert AuditEvent.objects.filter(action="ticket.returned", object_id=str(t.pk)).exists()


# ---- refusals ----------------------------------------------------------------------------------------------------


def test_cancel_is_for_the_committee_staff_with_a_reason(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.DO)
    with pytest.raises(AccessDenied):
        services.move(company.secretary_a, t, TState.CANCELLED, version=t.version, reason="重复工单")
    with pytest.raises(DomainError):
        services.move(company.staff, t, TState.CANCELLED, version=t.version)
    t = services.move(company.staff, t, TState.CANCELLED, version=t.version, reason="与 GD 工单重复")
    assert t.state == TState.CANCELLED and t.closed_at is None
    assert AuditEvent.objects.filter(action="ticket.cancelled", object_id=str(t.pk)).exists()


def test_reopen_a_closed_ticket_is_for_the_staff(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.CLOSED)
    with pytest.raises(AccessDenied):
        services.move(company.secretary_a, t, TState.DO, version=t.version, reason="复发")
    t = services.move(company.staff, t, TState.DO, version=t.version, reason="同类问题复发")
    assert t.state == TState.DO and t.closed_at is None
    assert _history(t)[-1] == ("closed", "do")


def test_moves_outside_the_table_are_refused(company):
    t = staff_ticket(company)
    for to in (TState.CHECK, TState.ACT, TState.CLOSED, "nonsense"):
        with pytest.raises(DomainError):
            services.move(company.staff, t, to, version=t.version)
    t = to_state(company.staff, t, TState.CLOSED)
    with pytest.raises(DomainError):
        services.move(company.staff, t, TState.CANCELLED, version=t.version, reason="x")
    assert len(_history(t)) == 5


def test_other_branch_and_members_cannot_move(company):
    t = plan(company.secretary_a, staff_ticket(company))
    for user in (company.secretary_b, company.member_user_a, company.assessor, company.outsider):
        with pytest.raises(AccessDenied):
            services.move(user, t, TState.DO, version=t.version)
        with pytest.raises(AccessDenied):
            services.save_fields(user, t, {"analysis": "x"}, version=t.version)
    t.refresh_from_db()
    assert t.state == TState.PLAN and t.analysis.startswith("线路老化")


def test_a_stale_version_is_a_conflict_and_changes_nothing(company):
    t = plan(company.secretary_a, staff_ticket(company))
    seen = t.version
    services.save_fields(company.staff, t, {"analysis": "员工补充的原因"}, version=seen)
    with pytest.raises(ConflictError) as e:
        services.move(company.secretary_a, t, TState.DO, version=seen)
    assert "刷新" in e.value.message
    with pytest.raises(ConflictError):
        services.save_fields(company.secretary_a, t, {"measures": "新措施"}, version=seen)
    t.refresh_from_db()
    assert t.state == TState.PLAN and t.measures.startswith("更换") and t.version == seen + 1
    with pytest.raises(DomainError):
        services.move(company.secretary_a, t, TState.DO, version=None)


def test_allowed_moves_follow_the_role(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.CHECK)
    t = Ticket.objects.select_related("org").get(pk=t.pk)
    assert [m.to for m in services.allowed_moves(company.secretary_a, t)] == ["act", "do"]
    assert [m.to for m in services.allowed_moves(company.staff, t)] == ["act", "do", "cancelled"]
    assert services.allowed_moves(company.secretary_b, t) == []
    assert [m.needs_reason for m in services.allowed_moves(company.staff, t)] == [False, True, True]


# ---- step fields -------------------------------------------------------------------------------------------------


def test_step_fields_change_only_in_their_step(company):
    t = staff_ticket(company)
    with pytest.raises(DomainError) as e:
        services.save_fields(company.secretary_a, t, {"verification": "提前填写"}, version=t.version)
    assert e.value.field == "verification"
    t = to_state(company.secretary_a, t, TState.DO)
    with pytest.raises(DomainError) as e:
        services.save_fields(company.secretary_a, t, {"analysis": "改原因"}, version=t.version)
    assert e.value.field == "analysis"
    # extending the due date later is for the staff
    with pytest.raises(DomainError):
        services.save_fields(company.secretary_a, t, {"due_date": TODAY + datetime.timedelta(days=30)},
                             version=t.version)
    t = services.save_fields(company.staff, t, {"due_date": TODAY + datetime.timedelta(days=30)}, version=t.version)
    assert t.due_date == TODAY + datetime.timedelta(days=30)


def test_bad_step_values_change_nothing(company):
    t = staff_ticket(company)
    bad = [{"due_date": "2026-13-40"}, {"owner": company.member_user_a}, {"analysis": "长" * 2001},
           {"title": ""}, {"nope": 1}, {"due_date": TODAY - datetime.timedelta(days=400)}]
    for changes in bad:
        with pytest.raises(DomainError):
            services.save_fields(company.secretary_a, t, {"measures": "措施", **changes}, version=t.version)
    t.refresh_from_db()
    assert t.version == 1 and t.measures == "" and t.owner is None


def test_owner_must_handle_the_org_and_area_must_belong_to_it(company):
    t = staff_ticket(company)
    t = services.save_fields(company.secretary_a, t, {"owner": company.secretary_a}, version=t.version)
    assert t.owner == company.secretary_a
    with pytest.raises(DomainError):
        services.save_fields(company.secretary_a, t, {"owner": company.secretary_b}, version=t.version)
    other = ServiceArea.objects.create(org=company.branch_b, name="输电网格")
    with pytest.raises(DomainError) as e:
        services.save_fields(company.secretary_a, t, {"area": other}, version=t.version)
    assert e.value.field == "area"
    assert list(services.owner_choices(company.branch_a)) == sorted(
        [company.admin, company.staff, company.secretary_a], key=lambda u: u.username)


def test_reassign_is_for_the_staff_within_their_scope(company):
    t = staff_ticket(company)
    t = services.save_fields(company.secretary_a, t, {"owner": company.secretary_a}, version=t.version)
    with pytest.raises(AccessDenied):
        services.save_fields(company.secretary_a, t, {"org": company.branch_b}, version=t.version)
    t = services.save_fields(company.staff, t, {"org": company.branch_b}, version=t.version)
    assert t.org == company.branch_b and t.owner is None  # secretary A does not handle branch B
    ev = AuditEvent.objects.filter(action="ticket.updated", object_id=str(t.pk)).order_by("id").last()
    assert ev.data["after"]["org"] == company.branch_b.name


# ---- actions and evidence ----------------------------------------------------------------------------------------


def test_actions_with_evidence_only_in_do(company):
    t = staff_ticket(company)
    with pytest.raises(DomainError):
        services.add_action(company.secretary_a, t, date=TODAY, text="提前登记")
    t = to_state(company.secretary_a, t, TState.DO)
    a = services.add_action(company.secretary_a, t, date=TODAY, text="更换变压器。", files=[pdf(), png()])
    names = sorted(a.evidence.values_list("name", flat=True))
    assert names == ["整改记录.pdf", "现场照片.png"]
    ev = a.evidence.get(name="整改记录.pdf")
    assert ev.content_type == "application/pdf" and ev.file.read().startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="ticket.action_added", object_id=str(t.pk)).exists()


def test_a_fake_file_refuses_the_whole_action(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.DO)
    with pytest.raises(DomainError) as e:
        services.add_action(company.secretary_a, t, date=TODAY, text="更换变压器。",
                            files=[pdf(), pdf("伪装.pdf", b"MZ\x90\x00 not a pdf")])
    assert "伪装.pdf" in e.value.message
    assert not TicketAction.objects.exists() and not TicketEvidence.objects.exists()


def test_action_dates_and_text_are_checked(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.DO)
    for kwargs in ({"date": TODAY + datetime.timedelta(days=1), "text": "x"}, {"date": None, "text": "x"},
                   {"date": TODAY, "text": "  "}):
        with pytest.raises(DomainError):
            services.add_action(company.secretary_a, t, **kwargs)
    assert not TicketAction.objects.exists()


def test_withdraw_evidence(company):
    t = to_state(company.secretary_a, staff_ticket(company), TState.DO)
    a = services.add_action(company.secretary_a, t, date=TODAY, text="更换变压器。", files=[pdf()])
    extra = services.upload_evidence(company.secretary_a, a, png())
    services.withdraw_evidence(company.secretary_a, extra)
    extra.refresh_from_db()
    assert extra.withdrawn_at is not None
    with pytest.raises(DomainError):
        services.withdraw_evidence(company.secretary_a, extra)
    with pytest.raises(AccessDenied):
        services.withdraw_evidence(company.secretary_b, a.evidence.first())
    assert AuditEvent.objects.filter(action="ticket.evidence_withdrawn", object_id=str(t.pk)).count() == 1


# ---- overdue and lists -------------------------------------------------------------------------------------------


def _overdue(c, org=None, days=3):
    t = to_state(c.staff, staff_ticket(c, org), TState.DO)
    Ticket.objects.filter(pk=t.pk).update(due_date=TODAY - datetime.timedelta(days=days))
    t.refresh_from_db()
    return t


def test_overdue_is_open_and_past_due(company):
    late = _overdue(company)
    on_time = to_state(company.staff, staff_ticket(company), TState.DO)
    closed = to_state(company.staff, staff_ticket(company), TState.CLOSED)
    Ticket.objects.filter(pk=closed.pk).update(due_date=TODAY - datetime.timedelta(days=9))
    assert list(Ticket.objects.filter(services.overdue_q(TODAY))) == [late]
    assert services.is_overdue(late) and not services.is_overdue(on_time)


def test_filters(company):
    a = _overdue(company)
    b = staff_ticket(company, company.branch_b, title="输电线路通道隐患")
    c = need_ticket(company, company.branch_c)
    qs = services.visible(company.staff)
    f = services.filter_tickets
    assert set(f(company.staff, qs, {"org": str(company.general.pk)})) == {a, b}
    assert set(f(company.staff, qs, {"state": "plan"})) == {b, c}
    assert set(f(company.staff, qs, {"state": "open"})) == {a, b, c}
    assert set(f(company.staff, qs, {"origin": "need"})) == {c}
    assert set(f(company.staff, qs, {"overdue": "1"})) == {a}
    assert set(f(company.staff, qs, {"q": "通道"})) == {b}
    assert set(f(company.staff, qs, {"month": f"{TODAY:%Y-%m}"})) == {a, b, c}
    assert set(f(company.staff, qs, {"month": "2001-01"})) == set()
    assert set(f(company.staff, qs, {"month": "garbage", "org": "x"})) == set()
    # the secretary of branch B sees her branch only, and naming branch A gives nothing
    qs_b = services.visible(company.secretary_b)
    assert set(qs_b) == {b}
    assert set(f(company.secretary_b, qs_b, {"org": str(company.branch_a.pk)})) == set()


def test_my_orgs_overdue(company):
    a = _overdue(company)
    b = _overdue(company, company.branch_b)
    assert set(services.filter_tickets(company.secretary_a, services.visible(company.secretary_a),
                                       {"mine": "1"})) == {a}
    # the committee's staff are granted on the committee: its subtree's tickets are not "theirs" unless owned
    assert set(services.filter_tickets(company.staff, services.visible(company.staff), {"mine": "1"})) == set()
    Ticket.objects.filter(pk=b.pk).update(owner=company.staff)
    assert set(services.filter_tickets(company.staff, services.visible(company.staff), {"mine": "1"})) == {b}


# ---- reminders ---------------------------------------------------------------------------------------------------


@pytest.fixture
def emails(company):
    """The committee's people and both secretaries have e-mail addresses."""
    for name in ("secretary_a", "secretary_b", "staff", "admin"):
        user = getattr(company, name)
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    return company


def test_remind_due_mails_owner_else_handlers_once_a_day(emails, settings):
    c = emails
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    late = _overdue(c)                                             # branch A, no owner -> secretary A
    soon = to_state(c.staff, staff_ticket(c, c.branch_b), TState.DO)  # due in 10 days: not yet
    Ticket.objects.filter(pk=soon.pk).update(due_date=TODAY + datetime.timedelta(days=2))
    owned = _overdue(c, c.branch_b)
    Ticket.objects.filter(pk=owned.pk).update(owner=c.staff)
    later = to_state(c.staff, staff_ticket(c), TState.DO)            # due in 10 days: not reminded
    counts = services.remind_due(TODAY)
    assert counts == {"tickets": 3, "emails": 3, "overdue": 2, "unreachable": 0, "failed": 0}
    to = {m.to[0]: m for m in mail.outbox}
    assert set(to) == {"secretary_a@example.com", "secretary_b@example.com", "staff@example.com"}
    assert late.number in to["secretary_a@example.com"].body
    assert soon.number in to["secretary_b@example.com"].body and owned.number not in to["secretary_b@example.com"].body
    assert owned.number in to["staff@example.com"].body
    assert later.number not in "".join(m.body for m in mail.outbox)
    assert AuditEvent.objects.filter(action="ticket.reminded").count() == 3
    # the same day again: nothing
    assert services.remind_due(TODAY)["emails"] == 0 and len(mail.outbox) == 3
    # the next day: again
    assert services.remind_due(TODAY + datetime.timedelta(days=1))["tickets"] == 3


def test_a_branch_without_handlers_falls_to_the_nearest_ancestor(emails, settings):
    c = emails
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from dangjian.orgs.models import RoleGrant

    RoleGrant.objects.filter(user=c.secretary_a).delete()
    gen = make_user("general_sec", Role.SECRETARY, c.general, email="gen@example.com")
    _overdue(c)
    services.remind_due(TODAY)
    assert [m.to for m in mail.outbox] == [[gen.email]]


def test_unreachable_tickets_are_tried_again(company, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    t = _overdue(company)  # nobody has an e-mail address
    assert services.remind_due(TODAY)["unreachable"] == 1
    t.refresh_from_db()
    assert t.reminded_at is None and not mail.outbox


def test_remind_tickets_command_is_idempotent(emails, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _overdue(emails)
    call_command("remind_tickets")
    call_command("remind_tickets")
    assert len(mail.outbox) == 1
    out = capsys.readouterr().out
    assert "1" in out
    call_command("remind_tickets", "--date", (TODAY + datetime.timedelta(days=1)).isoformat())
    assert len(mail.outbox) == 2
    t = Ticket.objects.get()
    assert timezone.localdate(t.reminded_at) == TODAY
