"""Print a new random key for FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY (associations.crypto)."""

from django.core.management.base import BaseCommand

from associations.crypto import generate_key


class Command(BaseCommand):
    help = (
        "生成一个新的随机密钥(32 字节,base64),用于 FIELD_ENCRYPTION_KEYS"
        "(写成“k2:密钥”放在最前)或 BLIND_INDEX_KEY。"
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
