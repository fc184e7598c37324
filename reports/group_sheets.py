"""Sheets 4 and 5 of the printed reports, read from a run's snapshot and declared on the shared
writer (associations.sheets), as sheet 1 (reports.sheets):

Sheet 4 “五好/五有小组及表彰名单”: per village its member groups with the ten criteria as the
run recorded them (✓ met, blank not met, “未评定” when the group was not rated), the 五好 /
五有 marks, a 小计 row per village and per township (the number of groups, of groups meeting
each criterion, of 五好 and 五有 groups), the 合计 row, then the commended villages (the
county's top three of the run) with their presidents.

Sheet 5 “绩效工资发放表”: one row per person (reports.pay), 小计 per township, 合计 for the
county; for a run of a quarter or half year the title says 预估."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from associations import sheets
from associations.models import Level
from associations.periods import parse_period, period_label
from associations.sheets.responses import ascii_stem

from . import pay
from .models import FIVE_GOOD_CRITERIA, FIVE_HAVE_CRITERIA, Grade, ReportRun, SnapshotNode
from .sheets import GRADE_SHORT

CRITERIA = FIVE_GOOD_CRITERIA + FIVE_HAVE_CRITERIA
TICK = "✓"
NOT_RATED = "未评定"
MONEY = "0.00"
GROUPS_SHEET = "五好五有小组"
PAY_SHEET = "绩效工资发放表"

GROUP_REMARKS = [
    "本表取自考核生成时保存的结果(快照):小组评定为生成时该考核期的评定,此后的修改不影响本表。",
    "五项“五好”标准全部达到为“五好小组”,五项“五有”标准全部达到为“五有小组”;✓ 为达到。",
    "小计、合计行:会员小组栏为小组数,各标准栏为达到该标准的小组数,五好、五有栏为小组个数。",
    "表彰名单为本次考核总分全县前三名(同分并列)的村协会。",
]


def _stem(title: str, word: str) -> str:
    return ascii_stem(title, word)


def _name(text: str) -> str:
    return "".join(c for c in text if c not in '\\/:*?"<>|')


@dataclass(frozen=True)
class RunRows:
    """The snapshot rows of a run, by level."""

    run: ReportRun
    county: SnapshotNode | None
    townships: list[SnapshotNode]
    villages: list[SnapshotNode]
    groups: list[SnapshotNode]

    @classmethod
    def of(cls, run: ReportRun) -> RunRows:
        rows = list(SnapshotNode.objects.filter(run=run).order_by("division_code", "id"))
        by = {level: [r for r in rows if r.level == level] for level in Level.values}
        county = by[Level.COUNTY][0] if by[Level.COUNTY] else None
        return cls(run, county, by[Level.TOWNSHIP], by[Level.VILLAGE], by[Level.GROUP])

    @property
    def county_name(self) -> str:
        return self.county.name if self.county else self.run.county.name

    @property
    def label(self) -> str:
        return period_label(parse_period(self.run.period_key))

    def info_line(self, made_on: datetime.date) -> sheets.Line:
        run = self.run
        period = parse_period(run.period_key)
        state = "已发布" if run.published_at else "未发布"
        return sheets.Line(
            f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}    考核细则:{run.version}",
            right=f"第{run.number}次生成({state})    制表日期:{made_on:%Y-%m-%d}",
        )

    def by_township(self) -> list[tuple[str, list[SnapshotNode]]]:
        """[(township name, its villages)] in the order of the townships' codes."""
        order = {t.node_id_at: (t.division_code, t.name) for t in self.townships}
        grouped: dict = {}
        for village in self.villages:
            grouped.setdefault(village.township_node_id, []).append(village)
        keys = sorted(grouped, key=lambda k: order.get(k, ("", "")))
        return [
            (order.get(k, ("", ""))[1] or grouped[k][0].township_name or "未归属乡镇", grouped[k])
            for k in keys
        ]


# --- sheet 4 -------------------------------------------------------------------------------


def groups_title(data: RunRows) -> str:
    return f"{data.county_name}{data.label}五好/五有小组及表彰名单"


def groups_filename(data: RunRows) -> str:
    stem = _stem("五好五有小组", "groups")
    return f"{stem}_{_name(data.county_name)}_{data.run.period_key}_第{data.run.number}次.xlsx"


def groups_layout(data: RunRows, made_on: datetime.date) -> sheets.Layout:
    criteria = [sheets.Column(label, 6) for _, label in FIVE_GOOD_CRITERIA]
    have = [sheets.Column(label, 6) for _, label in FIVE_HAVE_CRITERIA]
    return sheets.Layout(
        title=groups_title(data),
        lines=[data.info_line(made_on)],
        header=[
            sheets.Column("乡镇(街道)", 11, "left"),
            sheets.Column("村(社区)", 13, "left"),
            sheets.Column("会员小组", 14, "left"),
            sheets.Group("五好标准", criteria),
            sheets.Group("五有标准", have),
            sheets.Column("五好小组", 7),
            sheets.Column("五有小组", 7),
        ],
        frozen_columns=3,
        header_height=34,
    )


def group_values(village: SnapshotNode, group: SnapshotNode) -> list:
    rating = group.figures.get("rating")
    if rating is None:
        return [village.township_name, village.name, group.name, *[""] * 10, NOT_RATED, ""]
    return [
        village.township_name,
        village.name,
        group.name,
        *[TICK if rating.get(key) else "" for key, _ in CRITERIA],
        "五好" if rating.get("five_good") else "",
        "五有" if rating.get("five_have") else "",
    ]


def group_summary(first: str, second: str, groups: list[SnapshotNode]) -> list:
    ratings = [g.figures["rating"] for g in groups if g.figures.get("rating")]
    return [
        first,
        second,
        f"{len(groups)}个小组",
        *[sum(1 for r in ratings if r.get(key)) for key, _ in CRITERIA],
        sum(1 for r in ratings if r.get("five_good")),
        sum(1 for r in ratings if r.get("five_have")),
    ]


def groups_xlsx(data: RunRows, *, made_on: datetime.date) -> bytes:
    groups_of: dict[int, list[SnapshotNode]] = {}
    for group in data.groups:
        groups_of.setdefault(group.parent_node_id, []).append(group)
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(groups_layout(data, made_on), name=GROUPS_SHEET)
        everyone: list[SnapshotNode] = []
        for township, villages in data.by_township():
            in_township: list[SnapshotNode] = []
            for village in villages:
                own = groups_of.get(village.node_id_at, [])
                for group in own:
                    sheet.row(group_values(village, group))
                sheet.total(group_summary(township, f"{village.name} 小计", own))
                in_township += own
            sheet.total(group_summary(f"{township} 小计", f"{len(villages)}个村", in_township))
            everyone += in_township
        sheet.total(group_summary("合计", f"{len(data.villages)}个村", everyone))
        sheet.blank()
        sheet.heading("表彰名单(全县前三名)")
        top = sorted(
            (v for v in data.villages if v.top_three), key=lambda v: (v.rank_in_county, v.name)
        )
        if not top:
            sheet.note("本次考核没有排名(无村协会)。")
        for village in top:
            grade = GRADE_SHORT.get(Grade(village.grade), "") if village.grade else ""
            sheet.note(
                f"第{village.rank_in_county}名  {village.township_name} {village.name}  "
                f"总分 {village.total}  {grade}"
            )
        sheet.blank()
        sheet.note("说明", style="remark_title")
        for remark in GROUP_REMARKS:
            sheet.note(remark, style="remark", height=26)
        sheet.close()
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


# --- sheet 5 -------------------------------------------------------------------------------


def pay_title(data: RunRows) -> str:
    estimate = "(预估)" if pay.is_estimate(data.run.period_key) else ""
    return f"{data.county_name}{data.label}村级会长、会员小组长绩效工资发放表{estimate}"


def pay_filename(data: RunRows) -> str:
    stem = _stem("绩效工资发放表", "pay")
    return f"{stem}_{_name(data.county_name)}_{data.run.period_key}_第{data.run.number}次.xlsx"


def pay_layout(data: RunRows, made_on: datetime.date) -> sheets.Layout:
    version = data.run.version
    return sheets.Layout(
        title=pay_title(data),
        lines=[
            data.info_line(made_on),
            sheets.Line(
                f"每月预留:会长 {version.president_pay_held} 元、会员小组长 "
                f"{version.leader_pay_held} 元;按等级发放:一流村协会 100%、合格村协会 "
                f"{version.qualified_pay_share}%、不合格 0;全县前三名表彰奖励每人 "
                f"{version.commendation_bonus} 元"
            ),
        ],
        header=[
            sheets.Column("乡镇(街道)", 11, "left"),
            sheets.Column("村(社区)", 13, "left"),
            sheets.Column("职务", 10),
            sheets.Column("会员小组", 13, "left"),
            sheets.Column("姓名", 12),
            sheets.Column("月数", 5),
            sheets.Column("预留金额(元)", 10, "right", MONEY),
            sheets.Column("考核等级", 7),
            sheets.Column("发放比例(%)", 8, "right", "0"),
            sheets.Column("发放金额(元)", 10, "right", MONEY),
            sheets.Column("表彰奖励(元)", 10, "right", MONEY),
            sheets.Column("合计(元)", 10, "right", MONEY),
        ],
        frozen_columns=5,
        header_height=30,
    )


def pay_values(line: pay.PayLine) -> list:
    grade = GRADE_SHORT.get(Grade(line.grade), "") if line.grade else "未评定"
    return [
        line.township,
        line.village,
        line.role,
        line.group,
        line.name,
        line.months,
        float(line.held),
        grade,
        float(line.share),
        float(line.paid),
        float(line.bonus),
        float(line.total),
    ]


def pay_summary(first: str, lines: list[pay.PayLine]) -> list:
    def total(attribute: str) -> float:
        return float(sum((getattr(line, attribute) for line in lines), Decimal(0)))

    return [
        first,
        f"{len({(x.township, x.village) for x in lines})}个村",
        f"{len(lines)}人",
        None,
        None,
        None,
        total("held"),
        None,
        None,
        total("paid"),
        total("bonus"),
        total("total"),
    ]


def pay_remarks(data: RunRows) -> list[str]:
    remarks = [
        "会长为考核期末任期内的村协会理事会会长;会员小组长为考核期末在任的小组长。",
        "会员小组长的绩效工资随所在村协会的考核等级发放(与会长相同)。",
        "预留金额 = 每月预留 × 月数;发放金额 = 预留金额 × 发放比例;金额保留两位小数,四舍五入。",
        "表彰奖励发给总分全县前三名(同分并列)村协会的会长和会员小组长。",
    ]
    if pay.is_estimate(data.run.period_key):
        remarks.insert(0, "本表按本考核期的等级预估,月数为本考核期的月数;实际发放以年终总评为准。")
    return remarks


def pay_xlsx(data: RunRows, lines: list[pay.PayLine], *, made_on: datetime.date) -> bytes:
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(pay_layout(data, made_on), name=PAY_SHEET)
        townships: dict[str, list[pay.PayLine]] = {}
        for line in lines:
            townships.setdefault(line.township, []).append(line)
        for township, own in townships.items():
            for line in own:
                sheet.row(pay_values(line))
            sheet.total(pay_summary(f"{township or '未归属乡镇'} 小计", own))
        sheet.total(pay_summary("合计", lines))
        sheet.blank()
        sheet.note("说明", style="remark_title")
        for remark in pay_remarks(data):
            sheet.note(remark, style="remark", height=26)
        sheet.close()
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
