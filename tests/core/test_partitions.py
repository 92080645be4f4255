"""The result tables partitioned by period on PostgreSQL (dangjian.core.partitions, migrations assessments 0005 and
appraisal 0006): a new period gets its partition once committed, the close's rows land in it, a finalized month
still refuses writes — through the parent and aimed at the partition itself —, the monthly job moves rows out of
the default partition and is idempotent, and the close gives the reference results in a partition. PostgreSQL only:
SQLite keeps plain tables."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from dangjian.appraisal.models import MemberResult
from dangjian.assessments import services
from dangjian.assessments.close import adjust_result, finalize_period
from dangjian.assessments.models import Adjustment, Result
from dangjian.core import partitions
from tests.appraisal.conftest import appraisal_period, member_set, open_month, published_month  # noqa: F401
from tests.assessments.test_close import assert_matches_reference, drive_to_published, month  # noqa: F401

pytestmark = pytest.mark.django_db

TABLES = ["assessments_result", "appraisal_memberresult"]
TODAY = datetime.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def pg():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps plain tables: partitions are PostgreSQL's")


def _one(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _homes(table, period_id) -> set[str]:
    """The partitions that hold the period's rows (tableoid names the physical table of each row)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE period_id = %s", [period_id])
        return {row[0] for row in cur.fetchall()}


def _refused(sql, params=()):
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
    return str(exc.value)


def test_the_result_tables_are_partitioned_by_period_with_a_default_partition():
    for table in TABLES:
        strategy, key = _one(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
            "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = to_regclass(%s)", [table])
        assert (strategy, key) == ("l", "period_id")
        with connection.cursor() as cur:
            assert partitions.partitions_of(cur, table)[f"{table}_default"] == "DEFAULT"
            # Nothing refers to them by a foreign key (the adjustment's reference is a trigger now).
            assert partitions.inbound_foreign_keys(cur, table) == []
    # The line tables stay plain: foreign keys point at them (docs/decisions.md).
    assert _one("SELECT count(*) FROM pg_partitioned_table WHERE partrelid IN "
                "(to_regclass('assessments_evalitem'), to_regclass('appraisal_memberline'))") == (0,)


def test_a_new_period_gets_its_partitions_when_its_opening_commits(company, standard, member_set,  # noqa: F811
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        org_period = services.open_period(
            company.staff, company.committee, "2026-12", submit_due=datetime.date(2026, 12, 25),
            self_due=datetime.date(2026, 12, 28), assess_due=datetime.date(2027, 1, 5))
    with django_capture_on_commit_callbacks(execute=True):
        member_period = open_month(company, "2026-12")
    with connection.cursor() as cur:
        assert f"assessments_result_p{org_period.pk}" in partitions.partitions_of(cur, "assessments_result")
        assert f"appraisal_memberresult_p{member_period.pk}" in partitions.partitions_of(cur, "appraisal_memberresult")


def test_the_close_writes_into_the_months_partition_with_the_reference_results(company, month):  # noqa: F811
    assert partitions.ensure_period_partitions(month) == {"assessments_result": 0}
    finalize_period(company.staff, month)
    assert _homes("assessments_result", month.pk) == {f"assessments_result_p{month.pk}"}
    assert_matches_reference(month)


def test_a_finalized_months_partition_refuses_writes_through_the_parent_and_directly(company, month):  # noqa: F811
    partitions.ensure_period_partitions(month)
    finalize_period(company.staff, month)
    part = f"assessments_result_p{month.pk}"
    assert "只能通过“调整”更正" in _refused("UPDATE assessments_result SET total = 0 WHERE period_id = %s", [month.pk])
    assert "只能通过“调整”更正" in _refused(f"UPDATE {part} SET total = 0")
    assert "只能通过“调整”更正" in _refused(f"DELETE FROM {part}")
    columns = ("org_name, org_path, level, total, max_total, score_rate, vetoed, peer_rank, peer_size, overall_rank, "
               "overall_size, percentile, grade, coefficient, secretary, org_type_id, period_id")
    assert "已兑现并锁定" in _refused(
        f"INSERT INTO {part} ({columns}, evaluation_id, org_id) "
        f"SELECT {columns}, evaluation_id + 100000, org_id + 100000 FROM {part} LIMIT 1")
    # The adjustment path still goes through (and is the only one).
    result = Result.objects.get(period=month, org=company.branch_c)
    adjust_result(company.staff, result, Decimal("75.0"), "复核后更正")
    assert Result.objects.get(pk=result.pk).total == Decimal("75.0")
    assert_matches_reference(month)


def test_an_adjustment_must_name_an_existing_result(company, month):  # noqa: F811
    finalize_period(company.staff, month)
    missing = Result.objects.order_by("-pk").first().pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        Adjustment.objects.create(result_id=missing, old_total=Decimal("1"), new_total=Decimal("2"), reason="无")


def test_ensure_partitions_moves_rows_out_of_the_default_partition_and_is_idempotent(company, month,  # noqa: F811
                                                                                    published_month):  # noqa: F811
    # Both months were opened inside the test's transaction, so their partitions were never made: the close wrote
    # into the default partitions.
    finalize_period(company.staff, month)
    n_org = Result.objects.filter(period=month).count()
    n_member = MemberResult.objects.filter(period=published_month).count()
    assert n_org and n_member
    assert _homes("assessments_result", month.pk) == {"assessments_result_default"}
    assert _homes("appraisal_memberresult", published_month.pk) == {"appraisal_memberresult_default"}

    report = partitions.ensure_partitions(months_ahead=2, today=TODAY)
    org_part, member_part = f"assessments_result_p{month.pk}", f"appraisal_memberresult_p{published_month.pk}"
    assert set(report.created) == {org_part, member_part}
    assert report.moved == {org_part: n_org, member_part: n_member}
    assert report.default_rows == {"assessments_result": 0, "appraisal_memberresult": 0}
    assert _homes("assessments_result", month.pk) == {org_part}
    assert _homes("appraisal_memberresult", published_month.pk) == {member_part}
    assert_matches_reference(month)

    again = partitions.ensure_partitions(months_ahead=2, today=TODAY)
    assert again.created == [] and again.moved == {} and again.existing == 2

    # The moved rows are as locked as before, aimed at the new partition or through the parent.
    assert "写入后不能修改" in _refused(f"UPDATE {member_part} SET total = 0")
    assert "写入后不能修改" in _refused("UPDATE appraisal_memberresult SET total = 0 WHERE period_id = %s",
                                       [published_month.pk])


def test_a_period_beyond_the_horizon_waits_for_its_own_opening(company, standard):  # noqa: F811
    later = services.open_period(
        company.staff, company.committee, "2027-06", submit_due=datetime.date(2027, 6, 25),
        self_due=datetime.date(2027, 6, 28), assess_due=datetime.date(2027, 7, 5), standard_set=standard)
    later_pk = later.pk
    report = partitions.ensure_partitions(months_ahead=2, today=TODAY)
    assert f"assessments_result_p{later.pk}" not in report.created and report.later == 1
    report = partitions.ensure_partitions(months_ahead=12, today=TODAY)
    assert f"assessments_result_p{later.pk}" in report.created
    # The month deleted before anything was written: the job drops its empty partition.
    later.delete()
    report = partitions.ensure_partitions(months_ahead=12, today=TODAY)
    assert report.dropped == [f"assessments_result_p{later_pk}"]


def test_the_command_reports_in_chinese_and_refuses_a_bad_horizon(period):  # noqa: F811
    out = io.StringIO()
    call_command("ensure_partitions", stdout=out)
    assert f"已创建分区 assessments_result_p{period.pk}" in out.getvalue()
    out = io.StringIO()
    call_command("ensure_partitions", stdout=out)
    assert "新建分区 0 个" in out.getvalue()
    with pytest.raises(CommandError, match="0 至 24"):
        call_command("ensure_partitions", "--months-ahead", "-1")
