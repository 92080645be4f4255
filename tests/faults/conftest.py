import datetime

import pytest


@pytest.fixture
def standard(company):
    from dangjian.standards.services import load_default_set

    return load_default_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def period(company, standard):
    from dangjian.assessments import services

    return services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
