import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql


class Command(BaseCommand):
    help = (
        "创建(或更新)应用连接数据库所用的角色:不拥有数据表、受行级安全策略约束,"
        "只授予读写数据的权限。由表的所有者(执行迁移的账号)运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="角色名,例如 jishengxie_app")
        parser.add_argument(
            "--password", help="登录密码;也可用环境变量 APP_DB_PASSWORD;不给出则不可登录"
        )

    def handle(self, *args, role, password, **options):
        password = password or os.environ.get("APP_DB_PASSWORD")
        ident = sql.Identifier(role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
            if row and (row[0] or row[1]):
                raise CommandError(f"角色 {role} 是超级用户或可绕过行级安全,不能作为应用角色。")
            if row is None:
                cursor.execute(sql.SQL("CREATE ROLE {} NOSUPERUSER NOBYPASSRLS").format(ident))
            if password:
                cursor.execute(
                    sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password))
                )
            statements = [
                "GRANT USAGE ON SCHEMA public TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            ]
            for statement in statements:
                cursor.execute(sql.SQL(statement).format(role=ident))
        self.stdout.write(f"应用角色 {role} 已就绪。")
