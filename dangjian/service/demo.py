"""The service pillar of the demo company (manage.py demo): areas and needs with a public form, their PDCA tickets,
satisfaction surveys with four months of responses (one branch low, so a ticket opened by itself), service teams
whose hours feed the members' bonus items, three social-responsibility projects, and the committee's
customer-satisfaction item scored from the index. Each part is idempotent; the whole runs once per company."""

import datetime
import random

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dangjian.orgs.models import Organization
from dangjian.service.models import Need

DEMO_OWNER = "DEMO-C"


def ensure_demo_service(stdout=None, seed: int = 2027, today: datetime.date | None = None) -> dict | None:
    from dangjian.service.demo_dashboards import ensure_demo_dashboards
    from dangjian.service.demo_needs import ensure_demo_needs
    from dangjian.service.demo_surveys import ensure_demo_surveys
    from dangjian.service.demo_teams import ensure_demo_teams
    from dangjian.service.demo_tickets import ensure_demo_tickets

    root = Organization.objects.filter(code=DEMO_OWNER).first()
    staff = User.objects.filter(username="dangjian").first() or User.objects.filter(username="admin").first()
    if root is None or staff is None or Need.objects.filter(org__path__startswith=root.path).exists():
        return None
    today = today or timezone.localdate()
    rng = random.Random(seed)
    with transaction.atomic():
        channel = ensure_demo_needs(root, staff, rng, today)
        tickets = ensure_demo_tickets(root, staff, rng, today)
        surveys = ensure_demo_surveys(root, staff, rng, today)
        teams = ensure_demo_teams(root, staff, rng, today)
        loop = ensure_demo_dashboards(root, staff, rng, today)
    stats = {"channel": channel, "tickets": tickets, "surveys": len(surveys or []), "teams": teams, "loop": loop}
    if stdout is not None:
        stdout.write(f"服务群众：需求 {Need.objects.filter(org__path__startswith=root.path).count()} 条，"
                     f"满意度调查 {stats['surveys']} 份，服务队 {(teams or {}).get('teams', 0)} 支。")
        if channel is not None:
            stdout.write(f"  公众需求征集页（{channel.org.name}，免登录，可生成二维码）："
                         f"{reverse('service:public_need', args=[channel.key])}")
    return stats
