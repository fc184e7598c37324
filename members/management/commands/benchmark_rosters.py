"""Time and memory of the county-wide member roster: the product's openpyxl write-only build
(database query included) and the same rows written by xlsxwriter in constant_memory mode.

    manage.py benchmark_rosters --county 130535 [--keep DIR] [--synthetic 50000]

Each writer runs twice: once plain, for the wall time and the growth of the process's peak
resident memory (getrusage ru_maxrss, with the high-water mark reset through
/proc/self/clear_refs first where Linux allows it), and once under tracemalloc for the peak
of Python allocations (tracemalloc slows Python down several times, so that run's time is
reported apart and is not the wall time). CPU time (this process only: not the database
server's) is shown beside the wall time, which other load on the machine inflates."""

from __future__ import annotations

import dataclasses
import gc
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from django.utils import timezone

from associations.management.base import ScopedCommand
from associations.models import Association, Level
from associations.sheets import Section, looks_like_formula

from ... import roster_rows, rosters

TARGET_ROWS, TARGET_SECONDS, TARGET_MB = 50_000, 5.0, 100


@dataclass
class Measure:
    label: str
    rows: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_delta_mb: float | None = None
    rss_reset: bool = False
    traced_peak_mb: float | None = None
    traced_seconds: float | None = None
    size_mb: float = 0.0


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return _maxrss_mb()


def measure(label: str, build: Callable[[Path], int], folder: Path, trace: bool) -> Measure:
    result = Measure(label)
    path = folder / f"{label.split()[0]}.xlsx"
    gc.collect()
    result.rss_reset = _reset_peak_rss()
    before = _current_rss_mb() if result.rss_reset else _maxrss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result.rows = build(path)
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu
    result.rss_delta_mb = max(0.0, _maxrss_mb() - before)
    result.size_mb = path.stat().st_size / 2**20 if path.exists() else 0.0
    if trace:
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        build(folder / f"traced-{path.name}")
        result.traced_seconds = time.perf_counter() - started
        result.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


# --- the same rows through xlsxwriter --------------------------------------------------------


def xlsxwriter_build(
    rows: Iterable[tuple[Association, Section, list]],
    node: Association,
    path: Path,
    *,
    made_by: str,
    today,
) -> int:
    """The roster's layout (title, 制表 line, header, group headings, borders, print setup, a
    sheet per village for a township or county) written with xlsxwriter."""
    columns = rosters.MEMBER_COLUMNS
    last = len(columns) - 1
    split = max(1, len(columns) // 2)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    border = {"border": 1, "valign": "vcenter", "shrink": True}
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 16, "align": "center"}),
        "info": book.add_format({"font_size": 10}),
        "info_right": book.add_format({"font_size": 10, "align": "right"}),
        "header": book.add_format(
            {**border, "bold": True, "align": "center", "bg_color": "#D9D9D9"}
        ),
        "heading": book.add_format({**border, "bold": True, "bg_color": "#F2F2F2"}),
        "center": book.add_format({**border, "align": "center"}),
        "left": book.add_format({**border, "align": "left"}),
        "date": book.add_format({**border, "align": "center", "num_format": "yyyy-mm-dd"}),
        "quoted": book.add_format({**border, "quote_prefix": True}),
    }
    names: set[str] = set()
    state = {"ws": None, "owner": None, "section": object(), "row": 0, "n": 0}
    total = 0

    def open_sheet(owner: Association):
        name = owner.name[:31]
        while name in names:
            name = name[:28] + f"({len(names) % 100})"
        names.add(name)
        ws = book.add_worksheet(name)
        for index, column in enumerate(columns):
            ws.set_column(index, index, column.width)
        ws.set_row(0, 30)
        title = rosters.association_title(owner) + "会员花名册"
        ws.merge_range(0, 0, 0, last, title, fmt["title"])
        ws.merge_range(1, 0, 1, split - 1, f"制表单位:{made_by}", fmt["info"])
        made_on = f"制表日期:{roster_rows.chinese_date(today)}"
        ws.merge_range(1, split, 1, last, made_on, fmt["info_right"])
        ws.write_row(2, 0, [c.header for c in columns], fmt["header"])
        ws.freeze_panes(3, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 2)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页 共 &N 页")
        state.update(ws=ws, owner=owner, row=3, n=0, section=object())

    for owner, section, values in rows:
        if state["ws"] is None or owner != state["owner"]:
            open_sheet(owner)
        ws, row = state["ws"], state["row"]
        if section.key != state["section"]:
            ws.merge_range(row, 0, row, last, section.heading, fmt["heading"])
            state["section"], row = section.key, row + 1
        state["n"] += 1
        values[0] = state["n"]
        for col, (value, column) in enumerate(zip(values, columns, strict=True)):
            style = fmt["left" if column.align == "left" else "center"]
            if value is None or value == "":
                ws.write_blank(row, col, None, style)
            elif isinstance(value, str):
                quoted = looks_like_formula(value)
                ws.write_string(row, col, value, fmt["quoted"] if quoted else style)
            elif isinstance(value, int | float):
                ws.write_number(row, col, value, style)
            else:
                ws.write_datetime(row, col, value, fmt["date"])
        state["row"] = row + 1
        total += 1
    if state["ws"] is None:
        open_sheet(node)
    book.close()
    return total


# --- rows without a database -----------------------------------------------------------------


def synthetic_rows(count: int, *, villages: int = 600, groups: int = 8):
    """Roster rows as the database would give them (masked ID numbers and phones), spread
    over `villages` villages of `groups` groups, for measuring the writers alone."""
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "秀英桂兰玉珍凤华建国志强海军丽娟春梅红霞"
    per_village = max(1, count // villages)
    village = section = None
    for index in range(count):
        v, within = divmod(index, per_village)
        if village is None or village.pk != v + 1:
            village = Association(pk=v + 1, name=f"模拟{v + 1}村", level=Level.VILLAGE)
        group = within * groups // per_village + 1
        if section is None or section.key != (v, group):
            section = Section((v, group), f"第{group}会员小组")
        birth = timezone.datetime(1950 + index % 50, 1 + index % 12, 1 + index % 28).date()
        yield (
            village,
            section,
            [
                0,
                f"{within + 1:04d}",
                surnames[index % 20] + given[index % 20] + given[(index // 20) % 20],
                "男" if index % 2 else "女",
                birth,
                "汉族",
                f"130535********{index % 10000:04d}",
                f"138****{index % 10000:04d}",
                "五老(老党员)" if index % 5 == 0 else "育龄群众积极分子",
                "是" if index % 7 == 0 else "",
                timezone.datetime(2010 + index % 15, 5, 29).date(),
                f"第{group}会员小组",
            ],
        )


def openpyxl_from_rows(rows, node: Association, path: Path, *, made_by: str, today) -> int:
    """The product's roster writer (the member roster's declaration on associations.sheets)
    fed with rows that did not come from the database."""
    roster = dataclasses.replace(rosters.ROSTERS["members"], rows=lambda context: rows)
    return _product(roster, node, path, made_by=made_by, today=today)


def _product(roster, node: Association, path: Path, *, made_by: str, today) -> int:
    work_dir = path.parent / f"work-{path.stem}"
    work_dir.mkdir(exist_ok=True)
    try:
        return rosters.write_roster(
            roster,
            node,
            path,
            full_identity=False,
            made_by=made_by,
            today=today,
            work_dir=work_dir,
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


class Command(ScopedCommand):
    help = (
        "测量全县会员花名册的生成时间和内存峰值(openpyxl 流式写入,含数据库查询),"
        "并与 xlsxwriter constant_memory 模式写入同样的行比较。"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--synthetic",
            type=int,
            default=0,
            metavar="N",
            help="不读数据库,在内存中生成 N 行模拟会员,只测量写入",
        )
        parser.add_argument("--keep", metavar="DIR", help="生成的文件保存到该目录(默认临时目录)")
        parser.add_argument("--no-trace", action="store_true", help="不做 tracemalloc 测量")

    def handle(self, *args, county_node, synthetic, keep, no_trace, **options):
        county = county_node
        folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="rosters-"))
        folder.mkdir(parents=True, exist_ok=True)
        today = timezone.localdate()
        made_by = rosters.association_title(county)
        roster = rosters.ROSTERS["members"]
        trace = not no_trace

        if synthetic:
            source = f"内存中生成的 {synthetic:,} 行模拟会员(不读数据库)"

            def rows():
                return synthetic_rows(synthetic)

            def product(path):
                return openpyxl_from_rows(rows(), county, path, made_by=made_by, today=today)

        else:
            source = f"{county.name}全县在册会员 {roster.count(county):,} 人(数据库)"

            def rows():
                context = roster_rows.RosterContext(
                    node=county, full_identity=False, today=today, book=None
                )
                return roster_rows.member_rows(context)

            def product(path):
                return _product(roster, county, path, made_by=made_by, today=today)

        def rows_only(path):
            return sum(1 for _ in rows())

        def other(path):
            return xlsxwriter_build(rows(), county, path, made_by=made_by, today=today)

        self.stdout.write(f"数据:{source}")
        self.stdout.write(f"文件目录:{folder}")
        results = [
            measure("rows only (查询+脱敏,不写文件)", rows_only, folder, trace),
            measure("openpyxl write-only(产品路径)", product, folder, trace),
            measure("xlsxwriter constant_memory", other, folder, trace),
        ]
        self.stdout.write(self._table(results))
        self.stdout.write(
            f"目标:{TARGET_ROWS:,} 行 ≤ {TARGET_SECONDS:g} 秒、内存峰值 ≤ {TARGET_MB} MB。"
            "tracemalloc 统计 Python 分配的峰值;RSS 增量是进程常驻内存峰值的增长"
            "(含 C 扩展和数据库驱动的缓冲)。"
        )

    @staticmethod
    def _table(results: list[Measure]) -> str:
        lines = [
            f"{'方式':<34}{'行数':>9}{'用时(秒)':>10}{'CPU(秒)':>9}{'行/秒':>10}"
            f"{'RSS增量MB':>11}{'tracemalloc峰值MB':>19}{'(跟踪时用时)':>14}{'文件MB':>9}"
        ]
        for r in results:
            rate = r.rows / r.seconds if r.seconds else 0
            peak = f"{r.traced_peak_mb:.1f}" if r.traced_peak_mb is not None else "-"
            traced = f"{r.traced_seconds:.1f}" if r.traced_seconds is not None else "-"
            rss = f"{r.rss_delta_mb:.1f}" + ("" if r.rss_reset else "*")
            lines.append(
                f"{r.label:<34}{r.rows:>9,}{r.seconds:>10.2f}{r.cpu_seconds:>9.2f}{rate:>10,.0f}"
                f"{rss:>11}{peak:>19}{traced:>14}{r.size_mb:>9.1f}"
            )
        if not all(r.rss_reset for r in results):
            lines.append("* 无法重置峰值(/proc/self/clear_refs),RSS 增量相对于此前的最高值。")
        return "\n".join(lines)
