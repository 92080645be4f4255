"""The service app's tasks (dangjian.service.tasks) delivered twice through the database backend and
``manage.py worker --batch``: one effect (QUALITY.md R2) — the ticket reminder mails once a day, the satisfaction
indices open one ticket per low index. Both tasks are also reached through the commands' ``--enqueue``."""

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangjian.service.models import Ticket
from dangjian.service.tasks import compute_satisfaction_task, remind_tickets_task
from tests.core.test_worker import DB_TASKS
from tests.service.test_surveys_indices import MONTH, add_responses, make_open_survey
from tests.service.test_tickets import TODAY, _overdue, emails  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DB_TASKS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def run_worker():
    call_command("worker", "--batch", "--interval", "0", verbosity=0)


def returns():
    rows = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [r.status for r in rows] == [TaskResultStatus.SUCCESSFUL] * len(rows), [r.traceback for r in rows]
    return [r.return_value for r in rows]


def test_the_ticket_reminder_delivered_twice_mails_once(database_tasks, emails):  # noqa: F811
    _overdue(emails)
    remind_tickets_task.enqueue(day=TODAY.isoformat())
    call_command("remind_tickets", "--enqueue", "--date", TODAY.isoformat())
    assert DBTaskResult.objects.count() == 2
    run_worker()
    assert sorted(r["emails"] for r in returns()) == [0, 1]
    assert len(mail.outbox) == 1


def test_the_satisfaction_indices_delivered_twice_open_one_ticket(database_tasks, company):
    survey = make_open_survey(company)
    add_responses(survey, company.branch_a, [(1, 2), (2, 2), (1, 1)])  # 60.0, below the line of 80
    compute_satisfaction_task.enqueue(month=f"{MONTH:%Y-%m}")
    call_command("compute_satisfaction", "--enqueue", "--month", f"{MONTH:%Y-%m}")
    run_worker()
    assert sorted(row[0][2] for row in returns()) == [0, 1]  # [[month, indices, tickets]]
    assert Ticket.objects.count() == 1
