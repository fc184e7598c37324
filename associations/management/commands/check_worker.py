from django.core.management.base import CommandError

from ...tasks import subtree_census
from ..base import ScopedCommand


class Command(ScopedCommand):
    help = "向后台任务服务发送一个范围内的任务并等待结果,检查 Celery worker 是否在运行。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, county_node, timeout, **options):
        from dataclasses import asdict

        from ...scope import Scope

        result = subtree_census.apply_async(
            args=[county_node.pk], kwargs={"scope": asdict(Scope.for_node(county_node))}
        )
        try:
            census = result.get(timeout=timeout)
        except Exception as error:
            raise CommandError(f"后台任务服务无响应:{error}") from error
        self.stdout.write(f"后台任务服务正常:{census}")
