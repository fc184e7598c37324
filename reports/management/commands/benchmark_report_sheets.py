"""Time writing the printed sheets of a run, sheet 1 (村级考核表, with its 指标完成情况) and sheet 3
(活动统计表), for a county of --villages villages (600 by default) beside a FLOOR: xlsxwriter
writing the same cells (title, line, the two-row header with its merges, every body row) with
nothing else.

    manage.py benchmark_report_sheets [--villages 600] [--townships 20] [--indicators 12]
        [--runs 5]

The snapshot is made in memory (SnapshotNode rows not saved, as a run's build makes them:
indicators, grades, ranks, activity figures with 7 themes, 6 themed days and 6 materials), so
the figures are the writer's alone; the database side of the sheet views is a fixed handful
of queries whatever the number of villages (tests/reports/test_sheet_speed.py). No database
row is written.

Printed: each sheet's median against the floor's, their ratio, and the verdict against the
goal (sheet 1 and sheet 3 each ≤ 2 s for 600 villages)."""

from __future__ import annotations

import datetime
import io
import random
import statistics
import time
from decimal import Decimal

import xlsxwriter
from django.core.management.base import BaseCommand

from associations.models import Level

from ...activity_sheets import ActivitySheet, activities_xlsx, day_values, lines, values
from ...activity_snapshot import add, empty
from ...models import AssessmentScheme, Grade, ReportRun, SchemeVersion, SnapshotNode
from ...run_views import results_for
from ...sheet_targets import SheetTargets, TargetLine, line_values
from ...sheets import AssessmentSheet, assessment_xlsx, summary_values, village_values

GOAL_SECONDS = 2.0
MADE_ON = datetime.date(2026, 4, 1)
KINDS = [("publicity", "宣传"), ("meeting", "会议"), ("training", "培训"), ("service", "服务")]
KINDS += [("volunteer", "志愿服务")]


def synthetic(villages: int, townships: int, indicators: int, seed: int = 7):
    """(run, snapshot rows, catalogue) of a made-up county: rows in division-code order."""
    rng = random.Random(seed)
    scheme = AssessmentScheme(name="基准细则", year=2026)
    run = ReportRun(
        pk=1, period_key="2026-Q1", number=1, version=SchemeVersion(scheme=scheme, number=1)
    )
    columns = [
        {"key": f"k{i}", "name": f"指标{i + 1}", "max_score": "10", "manual": False}
        for i in range(indicators)
    ]
    catalogue = {
        "kinds": [list(k) for k in KINDS],
        "themes": [[i, f"主题{i}"] for i in range(1, 8)],
        "themed_days": [[i, f"{i}.1 主题日{i}"] for i in range(1, 7)],
        "materials": [[i, f"物资{i}", "份"] for i in range(1, 7)],
    }
    county = SnapshotNode(node_id_at=1, level=Level.COUNTY, name="基准县", division_code="130500")
    rows, county_total = [county], empty()
    next_id = 2
    per = villages // townships
    for t in range(townships):
        code = f"130500{t + 1:03d}"
        township = SnapshotNode(
            node_id_at=next_id, level=Level.TOWNSHIP, name=f"第{t + 1}镇", division_code=code
        )
        next_id += 1
        rows.append(township)
        subtotal = empty()
        count = per + (1 if t < villages - per * townships else 0)
        for v in range(count):
            scores = {
                c["key"]: {"value": str(rng.randint(0, 100)), "score": f"{rng.randint(0, 10)}.00"}
                for c in columns
            }
            total = sum(Decimal(s["score"]) for s in scores.values())
            figures = empty()
            for key, _label in KINDS:
                figures["kinds"][key] = rng.randint(0, 6)
            figures["activities"] = sum(figures["kinds"].values())
            figures["participants"] = rng.randint(0, 300)
            figures["themes"] = {"none": figures["activities"]}
            figures["materials"] = {str(rng.randint(1, 6)): rng.randint(0, 200)}
            figures["themed_days"] = {str(rng.randint(1, 6)): rng.randint(0, 2)}
            add(subtotal, figures)
            rows.append(
                SnapshotNode(
                    node_id_at=next_id,
                    level=Level.VILLAGE,
                    name=f"第{t + 1}镇第{v + 1}村",
                    division_code=f"{code}{v + 1:03d}",
                    township_node_id=township.node_id_at,
                    township_name=township.name,
                    indicators=scores,
                    total=total,
                    grade=rng.choice(list(Grade)).value,
                    rank_in_township=v + 1,
                    rank_in_county=next_id,
                    top_three=next_id < 5,
                    activity_figures=figures,
                )
            )
            next_id += 1
        township.figures = {"columns": columns, "average_total": "50.00"}
        township.activity_figures = {"own": empty(), "total": subtotal}
        add(county_total, subtotal)
    county.figures = {"columns": columns, "average_total": "50.00"}
    county.activity_figures = {"own": empty(), "total": county_total, "catalogue": catalogue}
    return run, rows, catalogue


def sheets_of(villages: int, townships: int, indicators: int):
    run, rows, catalogue = synthetic(villages, townships, indicators)
    county_row = rows[0]
    grouped = results_for(rows)
    targets = SheetTargets(
        year=2026,
        townships=[
            TargetLine(t["row"].name, {"first_class": 2, "qualified": 5}, {"first_class": 1})
            for t in grouped
        ],
        total=None,
        villages={v.node_id_at: "一流" for t in grouped for v in t["villages"][:2]},
    )
    for line in targets.townships:
        for kind in ("first_class", "qualified", "five_good", "five_have"):
            line.targets.setdefault(kind, None)
            line.achieved.setdefault(kind, None)
    assessment = AssessmentSheet(
        run=run,
        county_name=county_row.name,
        columns=county_row.figures["columns"],
        townships=grouped,
        county_row=county_row,
        targets=targets,
    )
    activity = ActivitySheet(
        run=run,
        county_name=county_row.name,
        catalogue=catalogue,
        townships=grouped,
        county_row=county_row,
    )
    return assessment, activity


def assessment_cells(data: AssessmentSheet) -> tuple[list[str], list[list]]:
    """The header labels and body rows sheet 1 writes (the floor writes the same)."""
    header = ["乡镇(街道)", "村(社区)"]
    for column in data.columns:
        header += [column["name"], "值", "得分"]
    header += ["总分", "等级", "乡镇排名", "全县排名", "全县前三", "争创目标"]
    body, everyone = [], []
    for township in data.townships:
        body += [village_values(data, v) for v in township["villages"]]
        everyone += township["villages"]
        body.append(summary_values(data, f"{township['row'].name} 小计", township["villages"], "1"))
    body.append(summary_values(data, "合计", everyone, "1"))
    body += [line_values(line) for line in data.targets.townships]
    return header, body


def activity_cells(data: ActivitySheet) -> tuple[list[str], list[list]]:
    cat = data.catalogue
    header = ["乡镇(街道)", "村(社区)", "活动次数", "参与", "活动主题", "发放资料"]
    header += [label for _k, label in cat["kinds"]] + [name for _p, name in cat["themes"]]
    body = []
    for _kind, first, second, figures in lines(data):
        body.append([first, second, *values(cat, figures)])
        body.append([first, second, *day_values(cat, figures)])
    return header, body


def floor(title: str, header: list[str], body: list[list]) -> bytes:
    """xlsxwriter writing the cells with a header and a body format, the title and the
    header merged, and the print setup."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("表")
    bold = book.add_format({"bold": True, "align": "center", "border": 1})
    cell = book.add_format({"border": 1, "num_format": "0.00"})
    width = max(len(r) for r in body)
    sheet.merge_range(0, 0, 0, width - 1, title, bold)
    sheet.write_string(1, 0, "统计期")
    for c, label in enumerate(header[:width]):
        sheet.write_string(2, c, label, bold)
        sheet.write_string(3, c, label, bold)
    for r, row in enumerate(body, start=4):
        sheet.write_row(r, 0, row, cell)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, 3)
    sheet.freeze_panes(4, 2)
    sheet.set_footer("&C第 &P 页 共 &N 页")
    book.close()
    return buffer.getvalue()


def median_ms(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class Command(BaseCommand):
    help = "考核表(表1)与活动统计表(表3)写出用时与 xlsxwriter 直接写同样单元格的比较。"

    def add_arguments(self, parser):
        parser.add_argument("--villages", type=int, default=600)
        parser.add_argument("--townships", type=int, default=20)
        parser.add_argument("--indicators", type=int, default=12)
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, villages, townships, indicators, runs, **options):
        villages = max(1, villages)
        townships = max(1, min(townships, villages))
        assessment, activity = sheets_of(villages, townships, indicators)
        self.stdout.write(
            f"模拟县:乡镇 {townships},村(社区) {villages},村级指标 {indicators};"
            f"预热 1 次,计时 {runs} 次。"
        )
        cases = [
            ("表1 村级考核表(含指标完成情况)", assessment, assessment_xlsx, assessment_cells),
            ("表3 活动统计表(含主题日活动)", activity, activities_xlsx, activity_cells),
        ]
        for label, data, product, cells in cases:
            header, body = cells(data)
            product(data, made_on=MADE_ON)  # warm-up
            floor("标题", header, body)
            product_ms = median_ms(lambda: product(data, made_on=MADE_ON), max(1, runs))  # noqa: B023
            floor_ms = median_ms(lambda: floor("标题", header, body), max(1, runs))  # noqa: B023
            verdict = "达标" if product_ms <= GOAL_SECONDS * 1000 else "未达标"
            self.stdout.write(
                f"{label}:中位 {product_ms:.0f} ms;xlsxwriter 同样单元格 {floor_ms:.0f} ms;"
                f"比值 {product_ms / floor_ms:.2f}×;目标 ≤ {GOAL_SECONDS:.0f} s:{verdict}"
            )
