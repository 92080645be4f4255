import pytest


@pytest.fixture
def eval_a(period, company):
    return period.evaluations.get(org=company.branch_a)
