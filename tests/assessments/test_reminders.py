"""Reminders before the deadlines of the monthly evaluation (`manage.py remind_deadlines`) and the event notices
(published, objection raised, objection answered) written after the transaction commits.

The month of the fixture (tests/assessments/conftest.py): 报送 10-25, 自评 10-28, 考评 11-05; reminders come
REMINDER_DAYS_BEFORE (2) days before, on the day and the day after."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dangjian.assessments import reminders, services
from dangjian.assessments.models import State
from dangjian.core.models import AuditEvent, Notification
from dangjian.orgs.models import Role
from tests.assessments.test_workflow import _assess_all, _self_assess_all
from tests.factories import make_org, make_user

D = datetime.date


def _inbox(user, kind=None):
    qs = Notification.objects.filter(user=user)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("id"))


def _kinds(user):
    return sorted((n.kind, n.key.split(":")[-1] if n.key else "") for n in _inbox(user))


@pytest.fixture
def mailbox(settings, company):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for name in ("secretary_a", "staff", "assessor"):
        user = getattr(company, name)
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    return company


@pytest.mark.parametrize(("day", "expected"), [
    (D(2026, 10, 22), []),
    (D(2026, 10, 23), [("eval.submit_due", "before")]),
    (D(2026, 10, 24), []),
    (D(2026, 10, 25), [("eval.submit_due", "due")]),
    # the day after 报送截止 is also two days before 自评截止
    (D(2026, 10, 26), [("eval.self_due", "before"), ("eval.submit_due", "overdue")]),
    (D(2026, 10, 28), [("eval.self_due", "due")]),
    (D(2026, 10, 29), [("eval.self_due", "overdue")]),
    (D(2026, 11, 5), []),  # 考评截止: secretaries are not reminded (nobody is assigned here)
])
def test_secretaries_are_reminded_before_on_and_after_each_deadline(company, period, day, expected):
    reminders.send_reminders(day)
    assert _kinds(company.secretary_a) == expected
    assert _kinds(company.secretary_b) == expected
    # nobody else but the committee's staff (digests) hears of it
    assert not _inbox(company.member_user_a) and not _inbox(company.admin) and not _inbox(company.assessor)
    digests = _inbox(company.staff, "eval.digest")
    assert len(digests) == len(expected) + (1 if day == D(2026, 11, 5) else 0)


def test_the_message_names_the_organization_and_links_to_its_month(company, period):
    reminders.send_reminders(D(2026, 10, 23))
    (n,) = _inbox(company.secretary_a)
    ev = period.evaluations.get(org=company.branch_a)
    assert company.branch_a.name in n.body and "还有2天截止" in n.title and "2026-10-25" in n.title
    assert n.url == f"/assessments/evaluations/{ev.pk}/" and n.org_path == company.branch_a.path
    (d,) = _inbox(company.staff)
    assert "本月还有 4 个组织未报送" in d.body and d.url == f"/assessments/{period.pk}/"


def test_organizations_past_the_stage_are_not_reminded(company, period, eval_a):
    services.save_summary(company.secretary_a, eval_a, "本月召开支委会一次。")
    services.move(company.secretary_a, eval_a, State.SUBMITTED)
    reminders.send_reminders(D(2026, 10, 25))
    assert not _inbox(company.secretary_a) and _kinds(company.secretary_b) == [("eval.submit_due", "due")]
    assert "还有 3 个组织未报送" in _inbox(company.staff)[0].body
    reminders.send_reminders(D(2026, 10, 28))  # not yet self-assessed: reminded for 自评
    assert _kinds(company.secretary_a) == [("eval.self_due", "due")]


def test_assigned_assessors_are_reminded_of_the_assessment_deadline(company, period, eval_a):
    from dangjian.assessments.models import Evaluation

    services.assign_assessors(company.staff, period, company.assessor, [eval_a])
    for day, stage in ((D(2026, 11, 3), "before"), (D(2026, 11, 5), "due")):
        reminders.send_reminders(day)
        assert _kinds(company.assessor)[-1] == ("eval.assess_due", stage)
    assert company.branch_a.name in _inbox(company.assessor)[0].body
    # once assessed, the organization is no longer reminded
    Evaluation.objects.filter(pk=eval_a.pk).update(state=State.ASSESSED)
    reminders.send_reminders(D(2026, 11, 6))
    assert len(_inbox(company.assessor)) == 2
    assert "还有 3 个组织未完成考评" in _inbox(company.staff)[-1].body


def test_reminders_are_sent_once_a_day_in_the_app_and_by_mail(mailbox, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.send_reminders(D(2026, 10, 25))
    assert first["messages"] == 3 and first["emails"] == 2  # secretaries A and B, staff; B has no address
    assert sorted(m.to[0] for m in mail.outbox) == ["secretary_a@example.com", "staff@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        again = reminders.send_reminders(D(2026, 10, 25))
    assert again["messages"] == 0 and len(mail.outbox) == 2
    assert Notification.objects.count() == 3
    (event,) = AuditEvent.objects.filter(action="period.reminded")  # the run that sent nothing is not logged
    assert event.data["messages"] == 3 and event.data["emails"] == 2 and event.org_path == mailbox.committee.path


def test_finalized_months_and_a_zero_lead_are_quiet(company, period, settings):
    settings.REMINDER_DAYS_BEFORE = 0
    assert reminders.send_reminders(D(2026, 10, 23))["messages"] == 0
    settings.REMINDER_DAYS_BEFORE = 3
    assert reminders.send_reminders(D(2026, 10, 22))["messages"] > 0
    period.status = "finalized"
    period.save(update_fields=["status"])
    assert reminders.send_reminders(D(2026, 10, 25)) == {"periods": 0, "member_periods": 0, "messages": 0,
                                                         "emails": 0}


def test_the_number_of_queries_does_not_grow_with_the_organizations(company, standard):
    def count(month, day):
        services.open_period(company.staff, company.committee, month, submit_due=day + datetime.timedelta(days=2),
                             self_due=day + datetime.timedelta(days=5), assess_due=day + datetime.timedelta(days=9))
        with CaptureQueriesContext(connection) as ctx:
            sent = reminders.send_reminders(day)
        return len(ctx.captured_queries), sent["messages"]

    small, n_small = count("2026-10", D(2026, 10, 20))
    for i in range(12):
        branch = make_org(f"扩展党支部{i}", parent=company.general)
        make_user(f"sec_x{i}", Role.SECRETARY, branch)
    large, n_large = count("2026-11", D(2026, 11, 20))
    assert n_large == n_small + 12
    assert large == small, (small, large)


def test_the_command_prints_a_summary_and_is_idempotent(company, period, capsys):
    call_command("remind_deadlines", "--date", "2026-10-25")
    out = capsys.readouterr().out
    assert "新发站内消息 3 条" in out
    call_command("remind_deadlines", "--date", "2026-10-25")
    assert "新发站内消息 0 条" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("remind_deadlines", "--date", "25.10.2026")


# ---- member months ---------------------------------------------------------------------------------------------


def test_members_are_reminded_to_self_evaluate_and_secretaries_to_determine(company):
    from tests.appraisal.conftest import make_member_set, open_month

    make_member_set(company.committee)
    ap = open_month(company)  # 自评 10-25, 评定 10-28
    reminders.send_reminders(D(2026, 10, 25))
    (n,) = _inbox(company.member_user_a)
    assert n.kind == "appraisal.self_due" and n.url == "/appraisal/me/"
    assert reminders.send_reminders(D(2026, 10, 25))["messages"] == 0
    reminders.send_reminders(D(2026, 10, 28))
    (d,) = _inbox(company.secretary_a, "appraisal.determine_due")
    assert company.branch_a.name in d.body and f"/periods/{ap.pk}/branches/{company.branch_a.pk}/" in d.url


# ---- event notices ---------------------------------------------------------------------------------------------


def _assessed(company, evaluation):
    services.save_summary(company.secretary_a, evaluation, "本月召开支委会一次。")
    services.move(company.secretary_a, evaluation, State.SUBMITTED)
    _self_assess_all(company.secretary_a, evaluation)
    services.move(company.secretary_a, evaluation, State.SELF_ASSESSED)
    _assess_all(company.assessor, evaluation)
    return services.move(company.assessor, evaluation, State.ASSESSED)


def test_publishing_notifies_the_secretaries_after_commit(company, period, eval_a,
                                                          django_capture_on_commit_callbacks):
    _assessed(company, eval_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_all(company.staff, period) == 1
    (n,) = _inbox(company.secretary_a)
    assert n.kind == "eval.published" and "公示期至" in n.body and n.url.endswith(f"/evaluations/{eval_a.pk}/")
    assert not _inbox(company.secretary_b)


def test_no_notice_when_the_transaction_rolls_back(company, period, eval_a, django_capture_on_commit_callbacks):
    _assessed(company, eval_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.move(company.staff, eval_a, State.PUBLISHED)
            raise RuntimeError("rolled back")
    assert not callbacks and not Notification.objects.exists()


def test_objections_notify_the_staff_and_the_answer_the_raiser(company, period, eval_a,
                                                                django_capture_on_commit_callbacks):
    _assessed(company, eval_a)
    services.move(company.staff, eval_a, State.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        objection = services.raise_objection(company.secretary_a, eval_a, "第三项已按期召开，有会议记录。")
    (n,) = _inbox(company.staff)
    assert n.kind == "eval.objection" and "第三项已按期召开" in n.body and company.branch_a.name in n.title
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_objection(company.staff, objection, "经核实，记录齐全。", upheld=True)
    (a,) = _inbox(company.secretary_a, "eval.objection_answered")
    assert "异议成立" in a.title and a.body == "经核实，记录齐全。"
