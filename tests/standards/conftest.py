import pytest
from django.conf import settings
from django.utils import translation

from dangjian.standards import services


@pytest.fixture(autouse=True)
def chinese():
    """A request in English leaves English active in the thread; the service tests read Chinese messages."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def default_set(company):
    """The shipped default set, loaded as a draft by the committee's staff."""
    return services.load_default_set(company.staff, company.committee, 2026)


@pytest.fixture
def published(company):
    return services.load_default_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def small_set(company):
    """A draft with two categories and three items: one common, one for production branches, one for
    committees and general branches."""
    from dangjian.orgs.models import OrgType

    ss = services.create_set(company.staff, owner=company.committee, year=2026, name="2026年度测试标准")
    zz = services.add_category(company.staff, ss, code="ZZ", name="组织建设")
    zy = services.add_category(company.staff, ss, code="ZY", name="作用发挥")
    production = OrgType.objects.get(code="production")
    services.add_item(company.staff, ss, category=zz, code="ZZ-01", text="主题党日", max_points="4",
                      rule="每缺1次扣2分", methods=["report", "onsite"], applies_levels=["branch"])
    services.add_item(company.staff, ss, category=zy, code="ZY-01", text="安全生产", max_points="8",
                      rule="重大事故一票否决", methods=["report"], applies_levels=["branch"],
                      applies_types=[production], is_veto=True)
    services.add_item(company.staff, ss, category=zz, code="ZZ-02", text="班子建设", max_points="10",
                      rule="未集体决策每起扣5分", methods=["onsite"], applies_levels=["committee", "general"])
    return ss
