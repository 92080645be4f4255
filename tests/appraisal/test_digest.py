"""The digest of a published member month (QUALITY.md S6): the member close stores one per branch month with its
aggregate; the wall (page, big screen, public wall, A3 poster, API) and the handbook PDF check it first and refuse,
in Chinese and showing nothing, when a result or the branch figures were changed afterwards in the database.

A change needs the database's own guard: the lock triggers (appraisal migration 0003) refuse every UPDATE of a
result or an aggregate and let a DELETE through only under the audit retention switch
(core.audit_chain.deletes_allowed); so the tampering here deletes the row under that switch and inserts a changed
copy, as someone with direct database access could.
"""

import json
import re

import pytest
from django.db import transaction
from django.urls import reverse

from dangjian.appraisal import close, handbook
from dangjian.appraisal import wall as services
from dangjian.appraisal.models import AppraisalPeriod, BranchAggregate, MemberResult
from dangjian.core.audit_chain import deletes_allowed
from dangjian.core.errors import DomainError
from dangjian.core.models import ApiToken
from tests.appraisal.conftest import determine_all

REFUSED = "2026-10党员评价公示结果的校验值不符"


@pytest.fixture
def two_branches(company, published_month):
    """October published by the real close for branch A (fixture published_month) and branch B."""
    determine_all(company.secretary_b, published_month, company.branch_b)
    close.publish_branch(company.secretary_b, published_month, company.branch_b)
    return published_month


def _replace(model, row, **changes):
    """Delete ``row`` under the retention switch and insert it again with ``changes``: the only way past the
    lock triggers short of dropping them."""
    with transaction.atomic(), deletes_allowed():
        model.objects.filter(pk=row.pk).delete()
        for name, value in changes.items():
            setattr(row, name, value)
        row.save(force_insert=True)


def tamper_result(company, period, **changes):
    row = MemberResult.objects.get(period=period, member=company.member_a)
    _replace(MemberResult, row, **(changes or {"total": row.total + 5}))


def _months(period, *orgs):
    return {(period.pk, org.pk): period.month for org in orgs}


# ---- what the close writes ------------------------------------------------------------------------------------


def test_the_close_stores_a_digest_per_branch_month_that_verifies(company, two_branches):
    aggs = {a.org_id: a for a in BranchAggregate.objects.filter(period=two_branches)}
    assert set(aggs) == {company.branch_a.pk, company.branch_b.pk}
    for agg in aggs.values():
        assert re.fullmatch(r"[0-9a-f]{64}", agg.digest)
    assert aggs[company.branch_a.pk].digest != aggs[company.branch_b.pk].digest
    assert close.refused_months(_months(two_branches, company.branch_a, company.branch_b)) == []
    close.check_months(_months(two_branches, company.branch_a, company.branch_b))


def test_the_digest_is_computed_again_from_the_same_rows(company, published_month):
    """The same rows give the same digest (the stored one is not just any value)."""
    stored = BranchAggregate.objects.get(period=published_month, org=company.branch_a).digest
    assert close.engine(published_month).digests(company.branch_a.pk) == {company.branch_a.pk: stored}


def test_publish_ready_writes_the_digests_of_every_branch_at_once(company, appraisal_period):
    for org, sec in ((company.branch_a, company.secretary_a), (company.branch_b, company.secretary_b)):
        determine_all(sec, appraisal_period, org)
    close.publish_ready(company.staff, appraisal_period)
    aggs = list(BranchAggregate.objects.filter(period=appraisal_period))
    assert len(aggs) >= 2 and all(len(a.digest) == 64 for a in aggs)
    assert close.refused_months({(a.period_id, a.org_id): a.month for a in aggs}) == []


# ---- a changed month is refused --------------------------------------------------------------------------------


def test_a_changed_result_is_detected_and_the_other_branch_still_passes(company, two_branches):
    tamper_result(company, two_branches)
    assert close.refused_months(_months(two_branches, company.branch_a, company.branch_b)) == [two_branches.month]
    with pytest.raises(DomainError) as exc:
        close.check_months(_months(two_branches, company.branch_a))
    assert REFUSED in exc.value.message and "请联系系统管理员" in exc.value.message
    close.check_months(_months(two_branches, company.branch_b))  # untouched: passes


@pytest.mark.parametrize("changes", [{"rank": 9}, {"qualified": False}, {"member_name": "王五"}])
def test_any_shown_field_of_a_result_counts(company, published_month, changes):
    tamper_result(company, published_month, **changes)
    assert close.refused_months(_months(published_month, company.branch_a)) == [published_month.month]


def test_a_removed_result_is_detected(company, published_month):
    with transaction.atomic(), deletes_allowed():
        MemberResult.objects.filter(period=published_month, member=company.member_a).delete()
    assert close.refused_months(_months(published_month, company.branch_a)) == [published_month.month]


@pytest.mark.parametrize("field, delta", [("avg", "0.5"), ("max", "1"), ("count", 1), ("unqualified", 1)])
def test_changed_branch_figures_are_detected(company, published_month, field, delta):
    from decimal import Decimal

    agg = BranchAggregate.objects.get(period=published_month, org=company.branch_a)
    value = getattr(agg, field)
    _replace(BranchAggregate, agg, **{field: value + (Decimal(delta) if isinstance(delta, str) else delta)})
    assert close.refused_months(_months(published_month, company.branch_a)) == [published_month.month]


def test_a_month_without_a_digest_is_refused(company, published_month):
    agg = BranchAggregate.objects.get(period=published_month, org=company.branch_a)
    _replace(BranchAggregate, agg, digest="")
    assert close.refused_months(_months(published_month, company.branch_a)) == [published_month.month]


# ---- the wall refuses, showing nothing ----------------------------------------------------------------------------


def _refused_page(resp, company):
    assert resp.status_code == 409
    html = resp.content.decode()
    assert REFUSED in html and 'data-testid="wall-refused"' in html
    assert company.member_a.name not in html and "data-wall-screen" not in html


def test_the_wall_pages_refuse_a_changed_month(client, company, two_branches):
    tamper_result(company, two_branches)
    client.force_login(company.staff)
    for name in ("wall_detail", "wall_screen", "wall_poster"):
        _refused_page(client.get(reverse(f"appraisal:{name}", args=[company.branch_a.pk])), company)
    resp = client.get(reverse("appraisal:wall_detail", args=[company.branch_a.pk]), {"format": "xlsx"})
    assert resp.status_code == 409 and resp["Content-Type"].startswith("text/html")
    # Branch B's month is untouched.
    resp = client.get(reverse("appraisal:wall_detail", args=[company.branch_b.pk]))
    assert resp.status_code == 200 and REFUSED not in resp.content.decode()


def test_the_public_wall_refuses_a_changed_month(client, company, published_month):
    key = services.enable_public_wall(company.secretary_a, company.branch_a).key
    for name in ("wall_public", "wall_public_screen", "wall_public_feedback"):
        assert client.get(reverse(f"appraisal:{name}", args=[key])).status_code == 200
    tamper_result(company, published_month)
    for name in ("wall_public", "wall_public_screen", "wall_public_feedback"):
        _refused_page(client.get(reverse(f"appraisal:{name}", args=[key])), company)


def test_the_wall_api_refuses_a_changed_month(client, company, published_month):
    headers = {"Authorization": f"Bearer {ApiToken.issue(company.staff)}"}
    url = f"/api/v1/walls/{company.branch_a.pk}"
    assert client.get(url, headers=headers).status_code == 200
    tamper_result(company, published_month)
    resp = client.get(url, headers=headers)
    assert resp.status_code == 400 and REFUSED in json.loads(resp.content)["detail"]


# ---- the handbook refuses ----------------------------------------------------------------------------------------


def test_the_handbook_refuses_a_changed_month(client, company, published_month):
    year = published_month.month.year
    handbook.check_results(MemberResult.objects.filter(member=company.member_a))  # untouched: passes
    tamper_result(company, published_month)
    with pytest.raises(DomainError) as exc:
        handbook.member_handbook(company.staff, company.member_a, year)
    assert REFUSED in exc.value.message
    with pytest.raises(DomainError):
        handbook.branch_handbooks(company.staff, company.branch_a, year)
    # The page: no PDF, the message on the handbook index.
    client.force_login(company.staff)
    resp = client.get(reverse("appraisal:handbook_member", args=[company.member_a.pk]), {"year": year},
                      follow=True)
    assert resp["Content-Type"].startswith("text/html") and REFUSED in resp.content.decode()
    # The API: 400 with the message.
    headers = {"Authorization": f"Bearer {ApiToken.issue(company.staff)}"}
    resp = client.get(f"/api/v1/handbooks/{company.member_a.pk}", {"year": year}, headers=headers)
    assert resp.status_code == 400 and REFUSED in json.loads(resp.content)["detail"]


def test_a_handbook_month_without_an_aggregate_is_refused(company, published_month):
    with transaction.atomic(), deletes_allowed():
        BranchAggregate.objects.filter(period=published_month, org=company.branch_a).delete()
    with pytest.raises(DomainError):
        handbook.check_results(MemberResult.objects.filter(member=company.member_a))
    assert AppraisalPeriod.objects.filter(pk=published_month.pk).exists()


# ---- months published before the digest ---------------------------------------------------------------------------


def test_the_backfill_migration_gives_old_months_their_digest_and_keeps_the_lock(company, published_month):
    import importlib
    import types

    from django.db import DatabaseError, connection

    agg = BranchAggregate.objects.get(period=published_month, org=company.branch_a)
    digest = agg.digest
    _replace(BranchAggregate, agg, digest="")
    assert close.refused_months(_months(published_month, company.branch_a)) == [published_month.month]
    migration = importlib.import_module("dangjian.appraisal.migrations.0005_backfill_branch_digests")
    if connection.vendor == "postgresql":  # the test's deferred FK checks would block ALTER TABLE; a migration has none
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration.forwards(None, types.SimpleNamespace(connection=connection))
    assert BranchAggregate.objects.get(period=published_month, org=company.branch_a).digest == digest
    assert close.refused_months(_months(published_month, company.branch_a)) == []
    # The aggregate is locked again.
    with pytest.raises(DatabaseError), transaction.atomic():
        BranchAggregate.objects.filter(pk=agg.pk).update(digest="x")
