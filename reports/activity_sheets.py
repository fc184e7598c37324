"""Sheet 3 of the printed reports: the activity statistics (活动统计表) of a run's period, read
from the run's snapshot (SnapshotNode.activity_figures, see reports.activity_snapshot) and
never recomputed, declared on the shared writer (associations.sheets).

    title       "<县>2026年第一季度计生协活动统计表"
    line        统计期, the run, 制表日期
    header      乡镇(街道) | 村(社区) | 活动次数: <kind>… 合计 | 参与: 参加人数 咨询人次 培训人数 |
                活动主题(次数): <theme>… 未设主题 | 发放资料: <material (unit)>…
    body        the villages under their township as the snapshot recorded them, the
                township's 乡镇本级 row (activities held by the township association itself,
                when there are any), its 小计; 县本级 (when any) and the 合计 at the end

A second worksheet (主题日活动) has the activities marking each themed day, with the same
rows. The theme, themed-day and material columns are those the snapshot recorded (names as
they were): a catalogue edited later changes nothing here."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from associations import sheets
from associations.periods import parse_period, period_label

from .activity_snapshot import NO_THEME, NO_THEME_LABEL, empty
from .models import ReportRun, SnapshotNode

STEM = "活动统计表"  # ASCII fallback: "activity_stats" (activities.statistics_export's stem)
SHEET_NAME = "活动统计表"
DAYS_SHEET_NAME = "主题日活动"
NUMBER = 6.5
OWN_TOWNSHIP = "乡镇本级"
OWN_COUNTY = "县本级"

REMARKS = [
    "本表取自考核生成时保存的结果(快照):各村数字、乡镇和村名称、活动主题和物资名称均为生成时的情况,此后的调整不影响本表。",
    "活动按开始日期计入统计期,跨月(季、年)的活动只计一次;参加人数、咨询人次、培训人数为活动登记的人数。",
    "乡镇本级、县本级:由乡镇、县计生协直接举办的活动;小计、合计为各行之和。活动主题各栏之和等于活动次数合计。",
]


@dataclass(frozen=True)
class ActivitySheet:
    """The run, the county's name as recorded, the catalogue the snapshot recorded, the
    townships ([{"row": township SnapshotNode | None, "villages": [SnapshotNode]}]) and the
    county row."""

    run: ReportRun
    county_name: str
    catalogue: dict
    townships: list[dict]
    county_row: SnapshotNode | None


def has_figures(county_row: SnapshotNode | None) -> bool:
    """Whether the run kept its activity statistics (runs built before they were kept did
    not)."""
    return bool(county_row and (county_row.activity_figures or {}).get("catalogue"))


def sheet_title(data: ActivitySheet) -> str:
    return f"{data.county_name}{period_label(parse_period(data.run.period_key))}计生协活动统计表"


def sheet_filename(data: ActivitySheet) -> str:
    name = "".join(c for c in data.county_name if c not in '\\/:*?"<>|')
    return f"{STEM}_{name}_{data.run.period_key}_第{data.run.number}次.xlsx"


def _line(data: ActivitySheet, made_on: datetime.date) -> sheets.Line:
    run = data.run
    period = parse_period(run.period_key)
    state = "已发布" if run.published_at else "未发布"
    return sheets.Line(
        f"统计期:{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}(按活动开始日期计)",
        right=f"考核第{run.number}次生成({state})    制表日期:{made_on:%Y-%m-%d}",
    )


STUB = [sheets.Column("乡镇(街道)", 12, "left"), sheets.Column("村(社区)", 14, "left")]


def layout(data: ActivitySheet, *, made_on: datetime.date) -> sheets.Layout:
    cat = data.catalogue
    groups = [
        sheets.Group(
            "活动次数",
            [
                *(
                    sheets.Column(label, 8 if len(label) > 2 else NUMBER)
                    for _k, label in cat["kinds"]
                ),
                sheets.Column("合计", NUMBER),
            ],
        ),
        sheets.Group(
            "参与",
            [
                sheets.Column("参加人数", 8),
                sheets.Column("咨询人次", 8),
                sheets.Column("培训人数", 8),
            ],
        ),
        sheets.Group(
            "活动主题(次数)",
            [
                *(sheets.Column(name, 9) for _pk, name in cat["themes"]),
                sheets.Column(NO_THEME_LABEL, 7),
            ],
        ),
    ]
    if cat["materials"]:
        groups.append(
            sheets.Group(
                "发放资料",
                [sheets.Column(f"{name}\n({unit})", 8) for _pk, name, unit in cat["materials"]],
            )
        )
    return sheets.Layout(
        title=sheet_title(data),
        lines=[_line(data, made_on)],
        header=[*STUB, *groups],
        frozen_columns=2,
        header_height=34,  # a theme's name may take two lines
    )


def days_layout(data: ActivitySheet, *, made_on: datetime.date) -> sheets.Layout:
    return sheets.Layout(
        title=f"{data.county_name}{period_label(parse_period(data.run.period_key))}主题日活动统计",
        lines=[_line(data, made_on)],
        header=[
            *STUB,
            sheets.Group(
                "主题日活动(次数)",
                [sheets.Column(label, 11) for _pk, label in data.catalogue["themed_days"]],
            ),
        ],
        frozen_columns=2,
        header_height=34,
    )


def values(cat: dict, figures: dict) -> list:
    """A row's numbers in the main sheet's column order."""
    kinds = figures["kinds"]
    themes = figures["themes"]
    materials = figures["materials"]
    return [
        *(kinds.get(key, 0) for key, _label in cat["kinds"]),
        figures["activities"],
        figures["participants"],
        figures["consultations"],
        figures["trainees"],
        *(themes.get(str(pk), 0) for pk, _name in cat["themes"]),
        themes.get(NO_THEME, 0),
        *(materials.get(str(pk), 0) for pk, _name, _unit in cat["materials"]),
    ]


def day_values(cat: dict, figures: dict) -> list:
    return [figures["themed_days"].get(str(pk), 0) for pk, _label in cat["themed_days"]]


def _is_empty(figures: dict) -> bool:
    return not (
        figures["activities"]
        or figures["participants"]
        or figures["consultations"]
        or figures["trainees"]
        or any(figures["materials"].values())
    )


def lines(data: ActivitySheet) -> list[tuple[str, str, str, dict]]:
    """(kind "row" | "total", first cell, second cell, figures) in the sheet's order."""
    result = []
    for township in data.townships:
        row = township["row"]
        villages = township["villages"]
        name = (row.name if row else villages[0].township_name) or "未归属乡镇"
        for village in villages:
            result.append(("row", village.township_name, village.name, _own(village)))
        stored = (row.activity_figures or {}) if row else {}
        own = stored.get("own") or empty()
        if not _is_empty(own):
            result.append(("row", name, OWN_TOWNSHIP, own))
        result.append(
            ("total", f"{name} 小计", f"{len(villages)}个村", stored.get("total") or empty())
        )
    if data.county_row is not None:
        stored = data.county_row.activity_figures or {}
        own = stored.get("own") or empty()
        if not _is_empty(own):
            result.append(("row", "", OWN_COUNTY, own))
        result.append(("total", "合计", "", stored.get("total") or empty()))
    return result


def _own(village: SnapshotNode) -> dict:
    return village.activity_figures or empty()


def _write(book, layout_: sheets.Layout, name: str, rows: list, cells) -> None:
    sheet = book.sheet(layout_, name=name)
    for kind, first, second, figures in rows:
        line = [first, second, *cells(figures)]
        if kind == "total":
            sheet.total(line)
        else:
            sheet.row(line)
    sheet.blank()
    sheet.note("说明", style="remark_title")
    for remark in REMARKS:
        sheet.note(remark, style="remark", height=26)
    sheet.close()


def activities_xlsx(data: ActivitySheet, *, made_on: datetime.date) -> bytes:
    cat = data.catalogue
    rows = lines(data)
    with sheets.scratch_folder() as work_dir:
        book = sheets.SheetBook(work_dir=work_dir)
        _write(book, layout(data, made_on=made_on), SHEET_NAME, rows, lambda f: values(cat, f))
        if cat["themed_days"]:
            _write(
                book,
                days_layout(data, made_on=made_on),
                DAYS_SHEET_NAME,
                rows,
                lambda f: day_values(cat, f),
            )
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
