"""The demo company's standard set: `manage.py demo` ends with ``ensure_demo_set``."""

from django.db import transaction
from django.utils import timezone

from dangjian.orgs.models import Organization
from dangjian.standards import defaults, services
from dangjian.standards.models import SetStatus, StandardSet

DEMO_OWNER = "DEMO-C"


def ensure_demo_set(stdout=None):
    """Publish the default set for the demo committee and the current year, unless one is published already
    (idempotent: running the demo again changes nothing). Like the rest of the demo data it is written in bulk,
    without audit events: it is made by the demo, not by a person."""
    owner = Organization.objects.filter(code=DEMO_OWNER).first()
    year = timezone.localdate().year
    if owner is None or owner.standard_sets.filter(year=year, status=SetStatus.PUBLISHED).exists():
        return None
    categories, items = services.default_contents()
    with transaction.atomic():
        ss = StandardSet.objects.create(
            owner=owner, year=year, name=defaults.NAME.format(year=year), note=defaults.NOTE,
            version=services.next_version(owner, year), status=SetStatus.PUBLISHED, published_at=timezone.now())
        services.write_contents(ss, categories, items)
    if stdout is not None:
        stdout.write(f"已发布演示考评标准：{ss.name}（{len(items)} 项细则）。")
    return ss
