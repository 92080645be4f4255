"""kill -9 during an Excel member import (QUALITY.md R1).

A file of 600 members (every third with a pledge) goes through ``orgs.imports.run_import`` — the service the
upload page calls — in a child process killed at points spread over the whole run: right after SQL statements
and the COMMIT (reading the file's branches and ID numbers, the id allocation, the audit event), and in the
middle of the bulk write itself (before the first, a middle and the last member row reach the database: SQLite's
executemany, PostgreSQL's COPY). Afterwards either none of the file's members, pledges and audit event exist, or
all of them; the audit chain verifies; a re-run of the same file then imports everything (or, when everything is
there, is refused row by row as already registered and changes nothing)."""

import datetime
import random

import pytest

from tests.factories import valid_id
from tests.faults.harness import Zygote, snapshot
from tests.orgs.test_import import MEMBER_HEADER, member_row, xlsx

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]

MEMBERS = 600
PER_DAY = 200  # ID numbers: serials 0–199 on each of three birth days of 1991
ID_PREFIX = "1101011991"
SEED = 20261025


def members_file(path):
    rows = []
    for n in range(MEMBERS):
        birth = datetime.date(1991, 1, 1 + n // PER_DAY)
        rows.append(member_row(n % PER_DAY, birth=birth, name=f"测试党员{n:04d}", id=valid_id(birth, n % PER_DAY),
                               pledge="立足岗位作贡献，保障电网安全稳定运行。" if n % 3 == 0 else ""))
    path.write_bytes(xlsx(MEMBER_HEADER, rows, name="党员.xlsx").read())
    return path


def test_import_killed_mid_way_leaves_nothing_or_everything(company, tmp_path):
    pledges = len(range(0, MEMBERS, 3))
    source = members_file(tmp_path / "党员.xlsx")
    base = snapshot(tmp_path)
    child = None
    try:
        child = Zygote(base.fresh("import"), tmp_path)
        ref = child.run("import-members", "staff", source, count=1)
        assert ref.returncode == 0 and ref.report == {"count": MEMBERS, "pledges": pledges}, ref.stderr[-3000:]
        events = ref.events
        rows = int(ref.marker("ROWS")[0])
        assert rows >= MEMBERS, rows  # every member row passed the hook
        full = {"members": MEMBERS, "pledges": pledges, "events": 1, "chain_ok": True}
        empty = {"members": 0, "pledges": 0, "events": 0, "chain_ok": True}

        commit = events.index("COMMIT") + 1
        rng = random.Random(SEED)
        at_events = sorted({1, commit - 1, commit, len(events)} | set(rng.sample(range(2, commit - 1), 6)))
        at_rows = [1, MEMBERS // 2, MEMBERS]
        points = [("kill_after", k) for k in at_events] + [("kill_at_row", r) for r in at_rows]
        outcome = {}
        for hook, k in points:
            where = f"{hook}={k} ({len(events)} events, COMMIT at {commit})"
            base.fresh("import")
            run = child.run("import-members", "staff", source, **{hook: k})
            assert run.killed, f"{where}: not killed ({run.returncode}) {run.stderr[-2000:]}"
            check = child.run("import-check", "staff", source, ID_PREFIX)
            assert check.returncode == 0, f"{where}: {check.stderr[-3000:]}"
            before, rerun, after = check.report["before"], check.report["rerun"], check.report["after"]
            assert before in (empty, full), f"{where}: {before}"
            if before == empty:
                assert rerun == {"count": MEMBERS, "pledges": pledges}, where
            else:
                assert rerun["problems"] == MEMBERS and "已登记" in rerun["first"], where
            assert after == full, where
            outcome[(hook, k)] = "nothing" if before == empty else "everything"
        print(f"member import: {len(events)} database events, COMMIT is event {commit}; {outcome}")
        assert outcome == {(h, k): "everything" if h == "kill_after" and k >= commit else "nothing"
                           for h, k in points}
    finally:
        if child:
            child.close()
        base.drop()
