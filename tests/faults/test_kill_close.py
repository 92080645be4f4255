"""kill -9 during the month close (QUALITY.md R1): 20 points, on the engine the suite runs on.

A month published with varied scores (a tie, a veto, three peer groups) is copied into a scratch database per
point; ``manage.py finalize_month`` runs in a child process that SIGKILLs itself right after the Nth database
event (a SQL statement or the COMMIT). Afterwards the month is either untouched (open, no results, every
evaluation still 已公示, no transition, no audit event) or completely closed (results equal to an uninterrupted
reference run, digest verified, every evaluation 已兑现 once, one audit event); the audit chain verifies either
way. A re-run then completes (or, for a closed month, is refused and changes nothing) and the results equal the
reference row by row."""

import datetime
import os
import random
from decimal import Decimal

import pytest

from dangjian.orgs.models import CommitteeSeat, Duty
from tests.assessments.test_close import drive_to_published
from tests.factories import make_member, make_org
from tests.faults.harness import Zygote, snapshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]

D = Decimal
POINTS = 20
SEED = int(os.environ.get("F1_SEED") or 20261025)


@pytest.fixture
def published(company, standard, request):
    """Seven organizations in three peer groups, 已公示 with the publicity window over (as test_close's month)."""
    c = company
    c.branch_d = make_org("配电运检党支部", parent=c.general, code="B004")
    c.branch_e = make_org("带电作业党支部", parent=c.general, code="B005")
    c.branch_f = make_org("财务共享党支部", parent=c.committee, type_code="management", code="B006")
    CommitteeSeat.objects.create(org=c.branch_a, member=c.secretary_member_a, duty=Duty.SECRETARY,
                                 since=datetime.date(2024, 1, 1))
    make_member(c.branch_d, "周卫东")
    period = request.getfixturevalue("period")
    drive_to_published(c, period, {
        c.general.pk: (D(3), False), c.branch_d.pk: (D(1), True), c.branch_a.pk: (D("8.5"), False),
        c.branch_b.pk: (D("8.5"), False), c.branch_e.pk: (D(20), False), c.branch_f.pk: (D("4.5"), False),
        c.branch_c.pk: (D(30), False)})
    return period


def choose_points(events: list[str], n: int, rng: random.Random) -> list[int]:
    """``n`` kill points among the events 1..len(events): always the first, the last statement before the
    COMMIT, the COMMIT itself, the first event after it and the last; the rest drawn at random."""
    total = len(events)
    commit = events.index("COMMIT") + 1
    must = {1, commit - 1, commit, min(commit + 1, total), total}
    rest = [i for i in range(1, total + 1) if i not in must]
    return sorted(must | set(rng.sample(rest, min(n - len(must), len(rest)))))


def assert_untouched(state, evaluations, where=""):
    assert state["status"] == "open", where
    assert state["results"] == [] and state["aggregates"] == [], where
    assert state["states"] == {"published": evaluations}, where
    assert state["finalized_transitions"] == 0 and state["finalized_events"] == 0, where
    assert state["digest"] == "" and state["digest_ok"] is None, where


def assert_closed_like(state, reference, where=""):
    assert state["status"] == "finalized", where
    assert state["results"] == reference["results"], where
    assert state["aggregates"] == reference["aggregates"], where
    assert state["digest"] == reference["digest"] and state["digest_ok"] is True, where
    assert state["states"] == {"finalized": reference["evaluations"]}, where
    assert state["finalized_transitions"] == reference["evaluations"], where
    assert state["finalized_events"] == 1, where


def test_close_killed_at_20_points_leaves_nothing_or_everything(published, tmp_path):
    period = published.pk
    evaluations = published.evaluations.count()
    base = snapshot(tmp_path)
    child = None
    try:
        # The reference: an uninterrupted close, counting its database events.
        child = Zygote(base.fresh("close"), tmp_path)
        ref_run = child.run("manage", "finalize_month", "--period", period, count=1)
        assert ref_run.returncode == 0 and ref_run.report["ok"], ref_run.stderr[-3000:]
        assert "已兑现" in ref_run.report["output"] and "校验通过" in ref_run.report["output"]
        events = ref_run.events
        check = child.run("close-check", period).report
        reference = check["before"]
        assert reference["status"] == "finalized" and len(reference["results"]) == evaluations == 7
        assert reference["digest_ok"] and reference["chain_ok"]
        # A second close of a closed month is refused and changes nothing.
        assert not check["rerun"]["ok"] and "不能重复兑现" in check["rerun"]["output"]
        assert check["after"] == reference

        points = choose_points(events, POINTS, random.Random(SEED))
        assert len(points) == POINTS, f"only {len(events)} database events: {events}"
        outcomes = {}
        for k in points:
            where = f"seed {SEED}, event {k}/{len(events)}: {events[k - 1]}"
            base.fresh("close")
            run = child.run("manage", "finalize_month", "--period", period, kill_after=k)
            assert run.killed, f"{where}: not killed ({run.returncode}) {run.stderr[-2000:]}"
            after = child.run("close-check", period)
            assert after.returncode == 0, f"{where}: {after.stderr[-3000:]}"
            state, rerun, final = after.report["before"], after.report["rerun"], after.report["after"]
            assert state["chain_ok"], where
            if state["status"] == "finalized":
                assert_closed_like(state, reference, where)
                assert not rerun["ok"] and "不能重复兑现" in rerun["output"], where
                outcomes[k] = "complete"
            else:
                assert_untouched(state, evaluations, where)
                assert rerun["ok"] and "已兑现" in rerun["output"], f"{where}: {rerun}"
                outcomes[k] = "nothing"
            assert_closed_like(final, reference, where)
            assert final["chain_ok"], where
        commit = events.index("COMMIT") + 1
        print(f"month close: {len(events)} database events, COMMIT is event {commit}; killed after {points}")
        # Killed before the COMMIT returned: nothing; after it: everything.
        assert outcomes == {k: "nothing" if k < commit else "complete" for k in points}
    finally:
        if child:
            child.close()
        base.drop()


def test_finalize_month_names_a_missing_period(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="找不到编号为 999999 的考评月份"):
        call_command("finalize_month", "--period", "999999")


def test_finalize_month_refuses_an_unpublished_month_and_changes_nothing(company, period):
    from django.core.management import CommandError, call_command

    from dangjian.assessments.models import Result

    with pytest.raises(CommandError, match="未处于“已公示”状态"):
        call_command("finalize_month", "--period", str(period.pk))
    period.refresh_from_db()
    assert period.status == "open" and not Result.objects.filter(period=period).exists()
