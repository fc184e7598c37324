import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ... import history, services, sources


class Command(BaseCommand):
    help = "开通一个县(租户)并创建它的第一个县级管理员账号。"

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="县的区划代码(6 位)")
        parser.add_argument("--name", required=True, help="县的名称")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-full-name", default="")
        parser.add_argument(
            "--admin-password",
            help="初始密码;不给出时交互输入(也可用环境变量 COUNTY_ADMIN_PASSWORD)",
        )

    def handle(self, *args, **options):
        import os

        password = options["admin_password"] or os.environ.get("COUNTY_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("管理员初始密码:")
        try:
            with history.change_source(sources.for_command("create_county")):
                county, admin = services.county_create(
                    name=options["name"],
                    division_code=options["code"],
                    admin_username=options["admin_username"],
                    admin_full_name=options["admin_full_name"],
                    admin_password=password,
                )
        except ValidationError as error:
            raise CommandError(";".join(error.messages)) from error
        self.stdout.write(f"已开通 {county.division_code} {county.name},管理员 {admin.username}")
