"""`manage.py rotate_field_key`: re-seal every encrypted field with the first configured key (core.crypto).

Put the new key first in FIELD_ENCRYPTION_KEYS (or the key file) and keep the old ones after it, restart, run
this command, then remove the old keys. Set-based: raw SQL in primary-key batches, each batch committed on its
own, only rows not yet under the first key are written, so the command can be interrupted and run again; a run
after a complete one changes nothing. Blind indexes are recomputed under the first key at the same time.
`--new-key` prints a fresh key and changes nothing."""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _

from dangjian.core import crypto
from dangjian.core.audit import log_action
from dangjian.core.fields import EncryptedCharField


def encrypted_tables():
    """(model, sealed columns, (index column, source column) or None) for every model with sealed fields."""
    out = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
        if not fields:
            continue
        index = next(((model._meta.get_field(f.blind_index).column, f.column) for f in fields if f.blind_index),
                     None)
        out.append((model, [f.column for f in fields], index))
    return out


class Command(BaseCommand):
    help = "用第一个字段加密密钥重新加密全部身份证号、手机号和双因素密钥（分批、可重复执行）；--new-key 生成新密钥。"

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="只生成并打印一个新密钥，不改动数据")
        parser.add_argument("--batch", type=int, default=2000, help="每批处理的行数（默认 2000）")
        parser.add_argument("--database", default="default", help="数据库别名（默认 default）")

    def handle(self, *args, new_key=False, batch=2000, database="default", **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        if batch < 1:
            raise CommandError(_("--batch 至少为 1。"))
        try:
            keys = crypto.keyring()
        except crypto.FieldKeyError as exc:
            raise CommandError(str(exc)) from exc
        connection = connections[database]
        started = time.perf_counter()
        counts = {}
        for model, columns, index in encrypted_tables():
            try:
                counts[model._meta.label] = crypto.reseal_table(
                    connection, model._meta.db_table, columns, mode="rotate", index=index,
                    pk=model._meta.pk.column, batch=batch, atomic_batches=True)
            except crypto.FieldKeyError as exc:
                raise CommandError(str(exc)) from exc
        total = sum(counts.values())
        log_action(None, "system.field_key_rotated", username="manage.py rotate_field_key", key_id=keys[0].kid,
                   rows=counts)
        detail = "，".join(f"{label} {n:,}" for label, n in counts.items())
        self.stdout.write(_("已用密钥 {kid} 重新加密 {total} 行（{detail}），用时 {seconds:.1f} 秒。").format(
            kid=keys[0].kid, total=f"{total:,}", detail=detail, seconds=time.perf_counter() - started))
