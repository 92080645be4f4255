"""`manage.py load_member_standards --owner CODE --year 2026 [--publish]`: load the default member standard set
shipped with the platform (dangjian/standards/member_defaults.py) as a new version for a committee. Run by an
operator, so no user permission applies; the audit trail records the load without a user."""

from django.core.management.base import BaseCommand, CommandError

from dangjian.core.errors import DomainError
from dangjian.orgs.models import Organization
from dangjian.standards import member_services
from dangjian.standards.models import SetStatus


class Command(BaseCommand):
    help = "为指定党委载入平台默认的党员量化评价标准（生成新的版本）。"

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="制定单位（党委）的组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度，如 2026")
        parser.add_argument("--publish", action="store_true", help="载入后立即发布（同年度已发布的版本自动归档）")
        parser.add_argument("--if-missing", action="store_true",
                            help="该党委该年度已有任何版本时不做任何修改（用于初始化脚本）")

    def handle(self, *args, owner, year, publish=False, if_missing=False, **options):
        org = Organization.objects.filter(code=owner).first()
        if org is None:
            raise CommandError(f"组织编码“{owner}”不存在。")
        existing = org.member_standard_sets.filter(year=year).order_by("-version").first()
        if if_missing and existing is not None:
            self.stdout.write(f"{org.name} {year} 年度已有党员评价标准（V{existing.version}），未做修改。")
            return
        try:
            ms = member_services.load_default_member_set(member_services.SYSTEM, org, year, publish=publish)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        state = "并已发布" if ms.status == SetStatus.PUBLISHED else "（草稿，发布后生效）"
        self.stdout.write(self.style.SUCCESS(
            f"已为{org.name}载入“{ms.name}”第{ms.version}版{state}：{ms.items.count()} 项细则。"))
