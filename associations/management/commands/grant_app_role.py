import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from associations.rls import ALL_COUNTIES_ROLE, ENSURE_ALL_COUNTIES_ROLE

GRANTS = [
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
]


class Command(BaseCommand):
    help = (
        "创建(或更新)应用连接数据库所用的角色:不拥有数据表、受行级安全策略约束,"
        "只授予读写数据的权限,且不属于可查看所有县的角色组 jsx_all_counties。"
        "加 --all-counties 时另建(或更新)跨县工作专用的角色并加入该角色组。"
        "由表的所有者(执行迁移的账号)运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="角色名,例如 jishengxie_app")
        parser.add_argument(
            "--password", help="登录密码;也可用环境变量 APP_DB_PASSWORD;不给出则不可登录"
        )
        parser.add_argument(
            "--all-counties",
            dest="all_counties",
            metavar="ROLE",
            help="跨县工作(开通县、定时任务分发、平台运维页面)专用的角色名,例如 "
            "jishengxie_all;其连接地址设为 ALL_COUNTIES_DATABASE_URL",
        )
        parser.add_argument(
            "--all-counties-password",
            dest="all_counties_password",
            help="跨县角色的登录密码;也可用环境变量 ALL_COUNTIES_DB_PASSWORD",
        )

    def handle(self, *args, role, password, all_counties, all_counties_password, **options):
        password = password or os.environ.get("APP_DB_PASSWORD")
        all_counties_password = all_counties_password or os.environ.get("ALL_COUNTIES_DB_PASSWORD")
        if all_counties and all_counties == role:
            raise CommandError("跨县角色不能与应用角色相同。")
        with connection.cursor() as cursor:
            cursor.execute(ENSURE_ALL_COUNTIES_ROLE)
            self._ensure_role(cursor, role, password)
            group = sql.Identifier(ALL_COUNTIES_ROLE)
            # The app role may set app.county_id = 'all', so it must not be in the group.
            cursor.execute(sql.SQL("REVOKE {} FROM {}").format(group, sql.Identifier(role)))
            cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, ALL_COUNTIES_ROLE])
            if cursor.fetchone()[0]:
                raise CommandError(
                    f"应用角色 {role} 仍属于 {ALL_COUNTIES_ROLE}(可能经由其他角色间接加入),"
                    "请先撤销。"
                )
            if all_counties:
                self._ensure_role(cursor, all_counties, all_counties_password)
                cursor.execute(
                    sql.SQL("GRANT {} TO {}").format(group, sql.Identifier(all_counties))
                )
        self.stdout.write(f"应用角色 {role} 已就绪(不能查看其他县的数据)。")
        if all_counties:
            self.stdout.write(f"跨县角色 {all_counties} 已就绪(属于 {ALL_COUNTIES_ROLE})。")

    @staticmethod
    def _ensure_role(cursor, role: str, password: str | None) -> None:
        ident = sql.Identifier(role)
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        if row and (row[0] or row[1]):
            raise CommandError(f"角色 {role} 是超级用户或可绕过行级安全,不能作为应用角色。")
        if row and row[2]:
            # A CREATEROLE role could grant itself the all-counties group.
            raise CommandError(f"角色 {role} 可以创建角色(CREATEROLE),不能作为应用角色。")
        if row is None:
            cursor.execute(
                sql.SQL("CREATE ROLE {} NOSUPERUSER NOBYPASSRLS NOCREATEROLE").format(ident)
            )
        if password:
            cursor.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password))
            )
        for statement in GRANTS:
            cursor.execute(sql.SQL(statement).format(role=ident))
