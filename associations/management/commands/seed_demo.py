import time

from django.core.management.base import BaseCommand

from ... import history, sources
from ...demo import DEMO_COUNTY_CODE, DEMO_COUNTY_NAME, SCALES, account_table, seed_county
from ...scope import Scope, activate


class Command(BaseCommand):
    help = "建立演示县(幂等:已存在时不做任何修改),并列出演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--county", default=DEMO_COUNTY_CODE, help="县的区划代码(6 位)")
        parser.add_argument("--name", default=DEMO_COUNTY_NAME, help="县的名称")
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
        parser.add_argument(
            "--without-people",
            action="store_true",
            help="只建组织树、理事会和账号,不生成人员与家庭",
        )

    def handle(self, *args, county, name, scale, without_people=False, **options):
        started = time.perf_counter()
        with history.change_source(sources.for_command("seed_demo")):
            node, created = seed_county(
                code=county, name=name, scale=scale, with_people=not without_people
            )
        elapsed = time.perf_counter() - started
        if created:
            shape = SCALES[scale]
            self.stdout.write(
                f"已建立 {node.division_code} {node.name}:{shape.townships} 个乡镇、"
                f"{shape.villages} 个村(社区)、{shape.groups} 个会员小组,用时 {elapsed:.1f} 秒。"
            )
            people = getattr(node, "demo_people", None)
            if people:
                self.stdout.write(
                    f"  人员与家庭:{people['households']} 户、{people['persons']} 人、"
                    f"困难家庭摸底 {people['hardship']} 条、帮扶记录 {people['assistance']} 条、"
                    f"变更记录 {people['change_records']} 条,用时 {people['seconds']:.1f} 秒"
                    f"(本进程 CPU {people['python_cpu_seconds']:.1f} 秒;"
                    f"{', '.join(f'{k} {v:.1f}s' for k, v in people['timings'].items())})。"
                )
            done = getattr(node, "demo_activities", None)
            if done:
                self.stdout.write(
                    f"  活动与走访:活动 {done['activities']} 次、"
                    f"参加活动 {done['attendance']} 人次、"
                    f"物资发放 {done['handouts']} 条、入户随访 {done['visits']} 次、"
                    f"变更记录 {done['change_records']} 条,用时 {done['seconds']:.1f} 秒"
                    f"({', '.join(f'{k} {v:.1f}s' for k, v in done['timings'].items())})。"
                )
            benefits = getattr(node, "demo_benefits", None)
            if benefits:
                self.stdout.write(_benefits_line(benefits))
            assessment = getattr(node, "demo_assessment", None)
            if assessment:
                self.stdout.write(
                    f"  考核:考核期 {', '.join(k for k, _ in assessment['periods'])},"
                    f"已发布 {', '.join(assessment['published']) or '无'},"
                    f"已锁定 {', '.join(assessment['locked']) or '无'}。"
                )
        else:
            self.stdout.write(f"{node.division_code} {node.name} 已存在,未做修改。")
        self.stdout.write("演示账号(用户名 / 角色 / 密码 / 所属组织):")
        with activate(Scope.for_node(node)):
            self.stdout.write(account_table(node))


def _benefits_line(made: dict) -> str:
    from benefits.models import EnrollmentStatus

    statuses = made["enrollments"]
    states = "、".join(
        f"{label} {statuses[value]}"
        for value, label in EnrollmentStatus.choices
        if value in statuses
    )
    return (
        f"  关爱扶助:项目 {made['programs']} 个、基金 {made['funds']} 个、"
        f"扶助对象 {sum(statuses.values())} 人({states})、异议 {made['objections']} 条、"
        f"收款账户 {made['accounts']} 个、发放批次 {made['batches']} 个(明细 {made['lines']} 条)、"
        f"资格确认 {made['reconfirmations']} 人、贷款 {made['loans']} 笔,"
        f"用时 {made['seconds']:.1f} 秒"
        f"({', '.join(f'{k} {v:.1f}s' for k, v in made['timings'].items())})。"
    )
