"""Re-encrypt every encrypted column (ID numbers, phones) under the current key.

    FIELD_ENCRYPTION_KEYS="k2:<new>,k1:<old>" manage.py rotate_keys [--batch 1000]

Put the new key first (the current one) and keep the old ones until this has finished: both
read meanwhile, new values are written under the new key. Every county's rows, in batches by
id, each batch committed on its own: safe to interrupt and run again (it picks up only what
still holds another key). Then the old key can be removed. The blind-index key
(BLIND_INDEX_KEY) does not rotate."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from associations import crypto, reencrypt
from associations.scope import UnscopedReason, unscoped


class Command(BaseCommand):
    help = "用当前密钥(FIELD_ENCRYPTION_KEYS 的第一个)重新加密所有加密字段;可中断后重新运行。"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=reencrypt.BATCH, help="每批行数")

    def handle(self, *args, batch, **options):
        if batch < 1:
            raise CommandError("--batch 必须是正整数。")
        current = crypto.current_key_id()
        self.stdout.write(f"当前密钥:{current}")
        with unscoped(reason=UnscopedReason.KEY_ROTATION):
            for table in reencrypt.encrypted_tables():
                todo = reencrypt.pending(table)
                self.stdout.write(f"{table.name}:{todo} 行待重新加密")

                def progress(name, done, todo=todo):
                    self.stdout.write(f"  {name}:{done}/{todo}")

                done = reencrypt.rotate(table, batch=batch, progress=progress)
                left = reencrypt.pending(table)
                self.stdout.write(f"{table.name}:完成 {done} 行,剩余 {left} 行")
        self.stdout.write(self.style.SUCCESS("重新加密完成。"))
