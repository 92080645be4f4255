"""The result table carries only the indexes its readers need (each one costs the close), and keeps its lock."""

import pytest
from django.db import connection

from dangjian.appraisal.models import MemberResult


@pytest.mark.django_db
def test_member_results_have_no_single_column_period_or_member_index():
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, MemberResult._meta.db_table)
    single = {tuple(c["columns"]) for c in constraints.values() if c["index"] and len(c["columns"]) == 1}
    assert ("period_id",) not in single and ("member_id",) not in single
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    # What the readers use: the wall (org, month, rank), the history (member, month), one row per member and month.
    assert {("org_id", "month", "rank"), ("member_id", "month"), ("period_id", "member_id")} <= indexed


def test_the_database_still_refuses_to_change_a_published_result(published_month):
    from django.db import DatabaseError, transaction

    result = MemberResult.objects.filter(period=published_month).first()
    assert result is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        MemberResult.objects.filter(pk=result.pk).update(total=100)
    result.refresh_from_db()
    assert result.total != 100
