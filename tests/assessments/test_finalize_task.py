"""The month close as a background task (dangjian.assessments.tasks; QUALITY.md R2).

With TASKS on django-tasks-db: the page and the API submit the close (a message / 202 with the task id), a second
submission while it is pending is refused, ``manage.py worker --batch`` finalizes the month and the user gets an
in-app message — or one saying why it failed, the month untouched. The same task delivered twice (two rows, same
arguments) closes once and both deliveries succeed; on PostgreSQL two worker processes running the two copies at
the same moment (both held on the period's row lock until both have started) do too. The reminders task delivered
twice sends once. With the immediate backend (tests, ``make run``) everything happens in the request as before:
tests/assessments/test_pages.py and test_results_api.py are unchanged."""

import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangjian.assessments import tasks
from dangjian.assessments.models import PeriodStatus, State, Transition
from dangjian.core.models import AuditEvent, Notification
from tests.assessments.test_api import Api, ok
from tests.assessments.test_close import drive_to_published
from tests.core.test_worker import DB_TASKS
from tests.faults.test_worker_kill import finish, output, shared_database, start_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit", "flushable_months")]


@pytest.fixture
def flushable_months():
    """SQLite: the flush ending a transactional test deletes row by row, which the lock triggers of a finalized
    month refuse (R4). After the test the triggers are lifted, the month's results removed and the month reopened,
    then the triggers put back (assessments migration 0003 keeps its statements for this); the flush then meets
    no finalized month. PostgreSQL's flush is a TRUNCATE, which those triggers do not see."""
    yield
    if connection.vendor != "sqlite":
        return
    lock = importlib.import_module("dangjian.assessments.migrations.0003_results_and_lock")
    with connection.cursor() as cur:
        for sql in lock.SQLITE_REVERSE:
            cur.execute(sql)
        for table in ("assessments_adjustment", "assessments_peeraggregate", "assessments_result"):
            cur.execute(f"DELETE FROM {table}")
        cur.execute("UPDATE assessments_period SET status = 'open'")
        for sql in lock.SQLITE:
            cur.execute(sql)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DB_TASKS
    return settings


@pytest.fixture
def published(company, period):
    drive_to_published(company, period)
    return period


def run_worker():
    call_command("worker", "--batch", "--interval", "0", verbosity=0)


def closed_once(period) -> None:
    period.refresh_from_db()
    assert period.status == PeriodStatus.FINALIZED and period.digest
    n = period.evaluations.count()
    assert Transition.objects.filter(evaluation__period=period, to_state=State.FINALIZED).count() == n
    assert period.results.count() == n
    assert AuditEvent.objects.filter(action="period.finalized").count() == 1


def test_with_the_immediate_backend_the_close_runs_in_the_request(company, published):
    submitted = tasks.submit_finalize(company.staff, published)
    assert not submitted.queued and submitted.period.status == PeriodStatus.FINALIZED
    assert not DBTaskResult.objects.exists()
    closed_once(published)


def test_the_same_finalize_delivered_twice_closes_once(database_tasks, company, published):
    first = tasks.finalize_period_task.enqueue(period_id=published.pk, user_id=company.staff.pk)
    second = tasks.finalize_period_task.enqueue(period_id=published.pk, user_id=company.staff.pk)
    run_worker()
    rows = {str(r.pk): r for r in DBTaskResult.objects.all()}
    assert {rows[first.id].status, rows[second.id].status} == {TaskResultStatus.SUCCESSFUL}
    assert sorted(r.return_value["status"] for r in rows.values()) == ["already", "finalized"]
    assert rows[first.id].return_value["digest"] == rows[second.id].return_value["digest"]
    closed_once(published)
    done = Notification.objects.filter(user=company.staff, kind="eval.finalized")
    assert done.count() == 1 and published.label in done.get().title
    assert done.get().url == reverse("assessments:period_detail", args=[published.pk])


def test_the_page_submits_the_close_and_the_worker_finalizes_it(database_tasks, client, company, published):
    client.force_login(company.staff)
    url = reverse("assessments:period_finalize", args=[published.pk])
    page = client.post(url, follow=True).content.decode()
    assert "的兑现已提交，正在后台进行" in page
    # The month's page shows the close waiting in the queue, its button disabled.
    assert 'data-testid="finalize-pending"' in page and "兑现中" in page
    row = DBTaskResult.objects.get()
    assert row.status == TaskResultStatus.READY
    assert row.args_kwargs["kwargs"] == {"period_id": published.pk, "user_id": company.staff.pk}
    published.refresh_from_db()
    assert published.status == PeriodStatus.OPEN
    again = client.post(url, follow=True).content.decode()
    assert "正在后台进行，请勿重复提交" in again and DBTaskResult.objects.count() == 1
    run_worker()
    closed_once(published)
    assert Notification.objects.filter(user=company.staff, kind="eval.finalized").count() == 1
    assert 'data-testid="finalize-pending"' not in client.get(
        reverse("assessments:period_detail", args=[published.pk])).content.decode()
    refused = client.post(url, follow=True).content.decode()
    assert "不能重复兑现" in refused and DBTaskResult.objects.count() == 1


def test_the_api_answers_202_with_the_task_and_409_while_it_is_pending(database_tasks, client, company, published):
    api = Api(client, company.staff)
    body = ok(api.post(f"/periods/{published.pk}/finalize"), 202)
    assert body["status"] == "queued" and body["period_id"] == published.pk
    assert str(DBTaskResult.objects.get().pk) == body["task_id"]
    pending = api.post(f"/periods/{published.pk}/finalize")
    assert pending.status_code == 409 and "正在后台进行" in pending.json()["detail"]
    assert Api(client, company.secretary_a).post(f"/periods/{published.pk}/finalize").status_code == 404
    assert DBTaskResult.objects.count() == 1
    run_worker()
    closed_once(published)
    assert ok(api.get(f"/periods/{published.pk}"))["status"] == "finalized"
    again = api.post(f"/periods/{published.pk}/finalize")
    assert again.status_code == 409 and "不能重复兑现" in again.json()["detail"]


def test_a_close_that_fails_in_the_background_tells_the_user_and_changes_nothing(database_tasks, client, company,
                                                                                   period):
    client.force_login(company.staff)
    url = reverse("assessments:period_finalize", args=[period.pk])
    client.post(url)
    run_worker()
    row = DBTaskResult.objects.get()
    assert row.status == TaskResultStatus.FAILED and "DomainError" in row.exception_class_path
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN and not period.results.exists()
    failed = Notification.objects.get(user=company.staff, kind="eval.finalize_failed")
    assert "该月没有任何改动" in failed.body and "还有" in failed.body and "未处于“已公示”状态" in failed.body
    # Nothing pending any more: the user may submit again once the month is ready.
    client.post(url)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_finalize_month_enqueue(database_tasks, settings, company, published, capsys):
    call_command("finalize_month", "--period", str(published.pk), "--enqueue")
    assert "由后台任务进程执行" in capsys.readouterr().out
    row = DBTaskResult.objects.get()
    assert row.args_kwargs["kwargs"] == {"period_id": published.pk, "user_id": None}
    run_worker()
    closed_once(published)
    assert not Notification.objects.filter(kind__startswith="eval.finalize").exists()  # the system asked
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    call_command("finalize_month", "--period", str(published.pk), "--enqueue")  # already done: quiet
    assert "已兑现" in capsys.readouterr().out
    closed_once(published)


def test_the_reminders_delivered_twice_send_once(database_tasks, company, period):
    day = period.submit_due.isoformat()
    first = tasks.remind_deadlines_task.enqueue(day=day)
    second = tasks.remind_deadlines_task.enqueue(day=day)
    run_worker()
    counts = [DBTaskResult.objects.get(pk=r.id).return_value for r in (first, second)]
    assert sorted(c["messages"] for c in counts)[0] == 0 and max(c["messages"] for c in counts) > 0
    assert Notification.objects.count() == max(c["messages"] for c in counts)


def test_two_workers_running_two_copies_at_once_close_once(database_tasks, company, published, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("two processes inside the close at once: PostgreSQL (SQLite runs one writer at a time)")
    import psycopg

    from tests.faults.harness import _pg_url

    for _ in range(2):
        tasks.finalize_period_task.enqueue(period_id=published.pk, user_id=company.staff.pk)
    shared = shared_database(tmp_path)
    # Hold the period's row so that both workers claim their copy and enter the close before either can finish.
    with psycopg.connect(_pg_url(connection.settings_dict["NAME"])) as blocker:
        blocker.execute("SELECT id FROM assessments_period WHERE id = %s FOR UPDATE", [published.pk])
        workers = [start_worker(shared, tmp_path, name, "--batch") for name in ("w1", "w2")]
        try:
            wait_for(lambda: DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() == 2,
                     what="both copies to be claimed")
            assert {tuple(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)} == {
                ("w1",), ("w2",)}
            blocker.rollback()
            codes = [finish(proc, 60) for proc in workers]
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
                    finish(proc)
    assert codes == [0, 0], output(tmp_path, "w1") + output(tmp_path, "w2")
    rows = list(DBTaskResult.objects.all())
    assert [r.status for r in rows] == [TaskResultStatus.SUCCESSFUL] * 2
    assert sorted(r.return_value["status"] for r in rows) == ["already", "finalized"]
    closed_once(published)
    assert Notification.objects.filter(user=company.staff, kind="eval.finalized").count() == 1
