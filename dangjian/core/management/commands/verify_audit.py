"""`manage.py verify_audit`: walk the audit log's hash chain and report the first altered, deleted or inserted
event (exit status 2), or the chain's length and head hash (exit status 0)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.audit_chain import CHUNK, verify_chain
from dangjian.core.models import AuditEvent


class Command(BaseCommand):
    help = "检查审计日志的哈希链，找出被修改、删除或插入的事件。"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=CHUNK, help="每次读取的事件数")
        parser.add_argument("--expect", metavar="ID:HASH",
                            help="另行记录的链尾（编号:哈希），核对它仍在链中，以发现对链尾的删除或整体重写")

    def handle(self, *args, chunk, expect, **options):
        report = verify_chain(chunk=max(chunk, 1))
        if not report.ok:
            at = timezone.localtime(report.bad_at).strftime("%Y-%m-%d %H:%M:%S") if report.bad_at else ""
            if report.problem == "altered":
                msg = _("审计日志被篡改：编号 {id} 的事件（{at}）的内容与其哈希不符。")
            else:
                msg = _("审计日志哈希链断开：编号 {id} 的事件（{at}）与前一事件的链接不符，其前有事件被删除、插入或改写。")
            raise CommandError(msg.format(id=report.bad_id, at=at) + " " + _("此前 {count} 条事件核验无误。").format(
                count=report.count), returncode=2)
        if expect:
            self._check_expected(expect)
        if report.anchor_id is not None:
            self.stdout.write(_("起点：保留期清理的锚点（已清理至编号 {id}）。").format(id=report.anchor_id))
        self.stdout.write(_("审计日志哈希链完整：共核验 {count} 条事件。").format(count=report.count))
        if report.head_id is not None:
            self.stdout.write(_("链尾：编号 {id}，哈希 {hash}。请把链尾另行保存，下次用 --expect {id}:{hash} 核对。").format(
                id=report.head_id, hash=report.head_hash))

    def _check_expected(self, expect):
        try:
            event_id, expected_hash = expect.split(":", 1)
            event_id = int(event_id)
        except ValueError as exc:
            raise CommandError(_("--expect 的格式应为 编号:哈希。")) from exc
        stored = AuditEvent.objects.filter(pk=event_id).values_list("hash", flat=True).first()
        if stored != expected_hash.strip().lower():
            raise CommandError(_("另行记录的链尾（编号 {id}）不在当前的哈希链中：链尾之后的事件被删除，或整条链被重写。").format(
                id=event_id), returncode=2)
