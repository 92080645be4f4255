import datetime

import pytest

from dangjian.assessments import services
from dangjian.standards.services import load_default_set


@pytest.fixture
def standard(company):
    return load_default_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def period(company, standard):
    return services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))


@pytest.fixture
def eval_a(period, company):
    return period.evaluations.get(org=company.branch_a)
