"""Population and member statistics (人口与会员统计表, sheet 2 of the printed reports), read from
a run's snapshot (`SnapshotNode.population_figures`, `members`) and never recomputed, declared
on the shared writer (associations.sheets) with the households figures table's columns.

    title       "<县>2026年第一季度人口与会员统计表"
    line        统计期, run and whether it is published, 制表日期
    header      乡镇(街道) | 村(社区) | the figures table's groups over their columns (户数,
                人口, 育龄妇女, …, 出生性别比; households.figures.header_groups) | 会员 over
                会员数 / 新增会员 / 会员占比
    body        the villages under their township as the snapshot recorded them, each township
                closed by its 小计 row, the sheet by the county's 合计 row

A 小计 / 合计 row is the township's or the county's own snapshot row: everyone under it as the
run counted, its sex ratio computed from its own births (not an average of the villages').
会员占比 is members ÷ 常住人口 (the membership ratio's definition), as a percentage to two
decimals; "—" where the population is 0."""

from __future__ import annotations

import datetime
import io
from decimal import ROUND_HALF_UP, Decimal

from associations import sheets
from associations.periods import parse_period, period_label
from associations.sheets.responses import ascii_stem
from households.figures import COLUMNS, RATIO_COLUMNS, TABLE_COLUMNS, header_groups, label_lines

from .models import ReportRun, SnapshotNode

SHEET_NAME = "人口与会员统计表"
SHEET_STEM = ascii_stem("人口与会员统计表", "population")
COUNT_WIDTH, RATIO_WIDTH, NAME_WIDTH = 6.5, 8, 12

REMARKS = [
    "本表取自考核生成时保存的结果(快照):人口、户数、出生、死亡和会员数为生成时按登记数据"
    "统计的本统计期数字,乡镇、村名称为生成时的情况,此后登记数据或区划的调整不影响本表。",
    "户籍人口 = 户籍常住 + 流出;常住人口 = 户籍常住 + 流入。人口、育龄妇女、会员数按统计期末计算;"
    "出生、死亡、新增会员为统计期内发生数。",
    "会员占比 = 会员数 ÷ 常住人口,以百分数表示,保留两位小数。"
    "小计、合计行为乡镇、全县的统计数,出生性别比按其出生数计算。",
]


def ratio(members: int | None, population: int | None) -> Decimal | None:
    """Members ÷ population as a percentage, two decimals, half up; None without population."""
    if not population:
        return None
    return (Decimal(members or 0) * 100 / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def ratio_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def sheet_title(county_name: str, run: ReportRun) -> str:
    return f"{county_name}{period_label(parse_period(run.period_key))}人口与会员统计表"


def sheet_filename(county_name: str, run: ReportRun) -> str:
    name = "".join(c for c in county_name if c not in '\\/:*?"<>|')
    return f"{SHEET_STEM}_{name}_{run.period_key}_第{run.number}次.xlsx"


def _wrapped(label: str) -> str:
    return "\n".join(label_lines(label))


def layout(county_name: str, run: ReportRun, *, made_on: datetime.date) -> sheets.Layout:
    period = parse_period(run.period_key)
    state = "已发布" if run.published_at else "未发布"
    last = TABLE_COLUMNS[-1]
    groups = [
        sheets.Group(
            group.label,
            [
                sheets.Column(
                    _wrapped(column.label),
                    RATIO_WIDTH if column in RATIO_COLUMNS else COUNT_WIDTH,
                    "right",
                    number_format="0.0" if column is last else None,
                )
                for column in group.columns
            ],
        )
        for group in header_groups()
    ]
    members = sheets.Group(
        "会员",
        [
            sheets.Column("会员数", 7, "right"),
            sheets.Column("新增\n会员", COUNT_WIDTH, "right"),
            sheets.Column("会员\n占比", RATIO_WIDTH, "right"),
        ],
    )
    return sheets.Layout(
        title=sheet_title(county_name, run),
        title_height=24,
        lines=[
            sheets.Line(
                f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}    "
                "数据来源:考核生成时保存的结果",
                right=f"第{run.number}次生成({state})    制表日期:{made_on:%Y-%m-%d}",
            )
        ],
        header=[
            sheets.Column("乡镇(街道)", NAME_WIDTH, "left"),
            sheets.Column("村(社区)", NAME_WIDTH, "left"),
            *groups,
            members,
        ],
        header_height=None,
        repeat_title=False,
        frozen_columns=2,
    )


def figure_cells(row: SnapshotNode) -> list:
    """The row's stored figures in TABLE_COLUMNS order, then its members."""
    stored = row.population_figures or {}
    counts = [stored.get(c.key, 0) for c in COLUMNS]
    per_100 = stored.get("sex_ratio_per_100")
    population = stored.get("resident_population", 0)
    return [
        *counts,
        stored.get("sex_ratio", "—"),
        "—" if per_100 in (None, "") else float(Decimal(per_100)),
        row.members or 0,
        stored.get("members_joined", 0),
        ratio_text(ratio(row.members, population)),
    ]


def display_cells(row: SnapshotNode) -> list:
    """The row's stored figures in TABLE_COLUMNS order as a page shows them ("—" where a
    ratio has no girls to divide by)."""
    stored = row.population_figures or {}
    per_100 = stored.get("sex_ratio_per_100")
    return [
        *(stored.get(c.key, 0) for c in COLUMNS),
        stored.get("sex_ratio", "—"),
        "—" if per_100 in (None, "") else per_100,
    ]


def population_xlsx(
    county_name: str,
    run: ReportRun,
    townships: list[dict],
    county_row: SnapshotNode | None,
    *,
    made_on: datetime.date,
) -> bytes:
    """`townships`: [{"row": township SnapshotNode | None, "villages": [SnapshotNode]}] as
    run_views.results_for gives them."""
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        sheet = book.sheet(layout(county_name, run, made_on=made_on), name=SHEET_NAME)
        for township in townships:
            villages = township["villages"]
            for village in villages:
                sheet.row([village.township_name, village.name, *figure_cells(village)])
            row = township["row"]
            if row is not None:
                sheet.total([f"{row.name} 小计", f"{len(villages)}个村", *figure_cells(row)])
        if county_row is not None:
            villages = sum(len(t["villages"]) for t in townships)
            sheet.total(["合计", f"{villages}个村", *figure_cells(county_row)])
        sheet.blank()
        sheet.note("说明", style="remark_title")
        for remark in REMARKS:
            sheet.note(remark, style="remark", height=26)
        sheet.close()
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
