"""The cluster of tests/cluster/cluster.py, started once for the package (`make test-cluster`, about a minute to
create, migrate and fill the database before the first test) and torn down after the last one."""

import json
import shutil

import pytest

from tests.cluster.cluster import NGINX, Cluster

PASSWORD = "Demo#2026dangjian"  # the demo's accounts (manage.py demo)

IDS = """
import json
from dangjian.assessments.models import Evaluation, Period, PeriodStatus
current = Period.objects.filter(owner__code="DEMO-C", status=PeriodStatus.OPEN).order_by("-month").first()
past = Period.objects.filter(owner__code="DEMO-C", status=PeriodStatus.FINALIZED).order_by("-month").first()
branch = Evaluation.objects.get(period=current, org__code="DEMO-B17")
print(json.dumps({"current": current.pk, "past": past.pk, "branch_eval": branch.pk, "branch_state": branch.state}))
"""


@pytest.fixture(scope="package")
def cluster():
    if not shutil.which(NGINX):
        pytest.fail("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    with Cluster() as c:
        yield c
        dead = c.dead()
        assert not dead, f"processes of the cluster died during the tests: {dead}"


@pytest.fixture(scope="package")
def demo_ids(cluster):
    """Primary keys of the demo: the open month, the latest finalized one and the demo secretary's evaluation."""
    return json.loads(cluster.shell(IDS).strip().splitlines()[-1])
