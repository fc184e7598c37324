"""The figures paragraphs of a 工作总结 (work summary) for a node and a run, drafted from the
run's snapshot only, in the seeds' style (seed 001: "上半年全镇共出生181人,其中一孩161人;二孩
17人……出生人口性别比为1.10:1。"), and the edited text as a Word document (python-docx).

The paragraphs, numbered as the seeds number them ("1、…"), each left out when the snapshot
has nothing for it:
    出生情况        births, by order (一孩 / 二孩 / 多孩, and 孩次未知 when some are unknown)
    出生人口性别比  boys, girls and the ratio ("1.10:1", households.figures.sex_ratio)
    人口情况        常住 / 户籍 population at the period's end, 流入 / 流出, households,
                    women of childbearing age; the deaths in the period
    会员情况        members at the period's end, members ÷ 常住人口, members who joined
    活动与随访      the percentage indicators the run recorded (activities, visits, …): the
                    village's value, or the villages' average for a township or the county
    利益导向机制执行情况  each care-subsidy programme paid in the period: beneficiaries and
                    the sum ("奖励扶助对象114人,共计82080元。"), from figures["benefits"]
    考核结果        villages by grade; the county's top three by name (a township: those of
                    its villages among them); a village: its total, grade and ranks

The place is named as the summaries name it: 全县 / 全区 / 全市 for a county, 全镇 / 全乡 /
全街道 for a township, 全村 / 全社区 for a village (by the end of the node's recorded name);
the period as 一季度 … 四季度, 上半年, 下半年, 全年."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from associations.models import Level
from associations.periods import parse_period, period_key

from .indicators import REGISTRY
from .models import Grade, ReportRun, SnapshotNode
from .population_sheet import ratio

FONT, FONT_EAST_ASIA = "SimSun", "宋体"
MAX_TEXT = 20000  # characters a summary may hold
MAX_TITLE = 100
# Percentage indicators told in the members paragraph, not among the activities.
NOT_ACTIVITIES = {"membership_ratio"}
GRADE_WORDS = {
    Grade.FIRST_CLASS: "一流村协会",
    Grade.QUALIFIED: "合格村协会",
    Grade.UNQUALIFIED: "不合格村协会",
}


@dataclass(frozen=True)
class Summary:
    title: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def period_words(key: str) -> str:
    """ "2026-Q1" → 一季度, "2026-H1" → 上半年, "2026" → 全年."""
    key = period_key(parse_period(key))
    if "-Q" in key:
        return f"{'一二三四'[int(key[-1]) - 1]}季度"
    if "-H" in key:
        return "上半年" if key.endswith("1") else "下半年"
    if len(key) == 4:
        return "全年"
    return f"{int(key[5:])}月"


def place_word(row: SnapshotNode) -> str:
    """全县 / 全镇 / 全村 … by the level and the end of the recorded name."""
    name = row.name or ""
    suffixes = {
        Level.COUNTY: (("区", "全区"), ("市", "全市"), ("旗", "全旗")),
        Level.TOWNSHIP: (("街道", "全街道"), ("乡", "全乡"), ("镇", "全镇")),
        Level.VILLAGE: (("社区", "全社区"), ("居委会", "全社区")),
    }.get(row.level, ())
    for suffix, word in suffixes:
        if name.endswith(suffix):
            return word
    return {Level.COUNTY: "全县", Level.TOWNSHIP: "全镇", Level.VILLAGE: "全村"}.get(
        row.level, "全村"
    )


def township_word(name: str) -> str:
    """全镇 / 全乡 / 全街道 by the end of a township's name."""
    if name.endswith("街道"):
        return "全街道"
    return "全乡" if name.endswith("乡") else "全镇"


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _births(when: str, place: str, f: dict) -> list[str]:
    births = f.get("births", 0)
    if not births:
        return [f"出生情况:{when}{place}无出生人口。"]
    parts = [f"一孩{f.get('births_order_1', 0)}人", f"二孩{f.get('births_order_2', 0)}人"]
    if f.get("births_order_3", 0):
        parts.append(f"多孩{f['births_order_3']}人")
    if f.get("births_order_unknown", 0):
        parts.append(f"孩次未知{f['births_order_unknown']}人")
    lines = [f"出生情况:{when}{place}共出生{births}人,其中{';'.join(parts)}。"]
    boys, girls = f.get("births_male", 0), f.get("births_female", 0)
    ratio_text = f.get("sex_ratio", "—")
    no_ratio = "无女婴出生,不计算出生人口性别比。"
    ending = f"出生人口性别比为{ratio_text}。" if girls else no_ratio
    lines.append(f"出生人口性别比:{when}共出生{births}人,其中:男孩{boys}人,女孩{girls}人,{ending}")
    return lines


def _population(when: str, place: str, end, f: dict) -> str:
    text = (
        f"人口情况:截至{end.year}年{end.month}月{end.day}日,{place}常住人口"
        f"{f.get('resident_population', 0)}人,户籍人口{f.get('hukou_population', 0)}人,"
        f"其中流入人口{f.get('inflow', 0)}人、流出人口{f.get('outflow', 0)}人;"
        f"共有{f.get('households', 0)}户;育龄妇女{f.get('women_15_49', 0)}人,"
        f"其中已婚育龄妇女{f.get('married_women_15_49', 0)}人。"
    )
    deaths = f.get("deaths", 0)
    if deaths:
        text += f"{when}{place}共死亡{deaths}人。"
    else:
        text += f"{when}{place}无死亡人口。"
    return text


def _members(when: str, place: str, row: SnapshotNode, f: dict, villages: int) -> str:
    members = row.members or 0
    text = "会员情况:"
    if row.level != Level.VILLAGE and villages:
        text += f"{place}共有村级计生协会{villages}个,"
    text += f"会员{members}人"
    share = ratio(members, f.get("resident_population", 0))
    if share is not None:
        text += f",占常住人口的{share}%"
    joined = f.get("members_joined", 0)
    text += f";{when}新发展会员{joined}人。" if joined else f";{when}无新发展会员。"
    return text


# How the seeds name the beneficiaries of the national programmes (seed 001); any other
# programme's beneficiaries are "<programme>对象".
BENEFICIARY_WORDS = {"reward_assistance": "奖励扶助对象", "special_assistance": "特扶对象"}


def _yuan(amount: str) -> str:
    value = Decimal(amount)
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


def _benefits(when: str, place: str, row: SnapshotNode) -> str:
    entries = (row.figures or {}).get("benefits") or []
    if not entries:
        return ""
    sentences = [
        f"{BENEFICIARY_WORDS.get(e['template'], e['program'] + '对象')}{e['people']}人,"
        f"共计{_yuan(e['amount'])}元。"
        for e in entries
    ]
    return f"利益导向机制执行情况:{when}{place}{''.join(sentences)}"


def _indicator_name(column: dict) -> str:
    indicator = REGISTRY.get(column["key"])
    return column.get("name") or (indicator.name if indicator else column["key"])


def _activities(when: str, place: str, row: SnapshotNode, villages, columns) -> str:
    """The percentage indicators: the village's value, or the average of the villages'."""
    parts = []
    for column in columns:
        indicator = REGISTRY.get(column["key"])
        if column.get("manual") or indicator is None or indicator.unit != "%":
            continue
        if column["key"] in NOT_ACTIVITIES:
            continue
        values = [
            Decimal(v.indicators[column["key"]]["value"])
            for v in villages
            if (v.indicators.get(column["key"]) or {}).get("value") not in (None, "")
        ]
        if not values:
            continue
        mean = sum(values, Decimal(0)) / len(values)
        name = _indicator_name(column)
        if row.level == Level.VILLAGE:
            parts.append(f"“{name}”为{_percent(mean)}")
        else:
            parts.append(f"“{name}”平均为{_percent(mean)}")
    if not parts:
        return ""
    who = place if row.level == Level.VILLAGE else f"{place}各村"
    return f"活动与随访:{when}{who}{','.join(parts)}。"


def _names(rows: list[SnapshotNode], with_township: bool) -> str:
    return "、".join(
        f"{r.township_name}{r.name}" if with_township and r.township_name else r.name for r in rows
    )


def _assessment(when: str, place: str, row: SnapshotNode, villages: list[SnapshotNode]) -> str:
    if row.level == Level.VILLAGE:
        if row.total is None:
            return ""
        grade = GRADE_WORDS.get(row.grade, "")
        text = f"考核结果:{when}本村考核总分{row.total}分"
        if grade:
            text += f",评为{grade}"
        ranks = []
        if row.rank_in_township:
            ranks.append(f"{township_word(row.township_name)}第{row.rank_in_township}名")
        if row.rank_in_county:
            ranks.append(f"全县第{row.rank_in_county}名")
        if ranks:
            text += f",排名{'、'.join(ranks)}"
        if row.top_three:
            text += ",进入全县前三"
        return text + "。"
    if not villages:
        return ""
    counts = {g: sum(1 for v in villages if v.grade == g) for g in GRADE_WORDS}
    grades = "、".join(f"{word}{counts[g]}个" for g, word in GRADE_WORDS.items())
    text = f"考核结果:{when}{place}{len(villages)}个村级计生协会参加考核,其中{grades}"
    top = sorted(
        (v for v in villages if v.top_three), key=lambda v: (v.rank_in_county or 0, v.division_code)
    )
    if row.level == Level.COUNTY and top:
        tie = "(含并列)" if len(top) > 3 else ""
        text += f";全县前三名{tie}为{_names(top, True)}"
    elif top:
        text += f";{_names(top, False)}进入全县前三"
    return text + "。"


def draft(run: ReportRun, row: SnapshotNode, rows: list[SnapshotNode]) -> Summary:
    """The summary of `row`'s node from the run's snapshot; `rows` are the snapshot rows the
    reader sees (the villages under the node are taken from them, as recorded)."""
    period = parse_period(run.period_key)
    when, place = period_words(run.period_key), place_word(row)
    if row.level == Level.COUNTY:
        villages = [r for r in rows if r.level == Level.VILLAGE]
    elif row.level == Level.TOWNSHIP:
        villages = [
            r for r in rows if r.level == Level.VILLAGE and r.township_node_id == row.node_id_at
        ]
    else:
        villages = [row]
    columns = next(
        (r.figures.get("columns", []) for r in rows if r.level in (Level.COUNTY, Level.TOWNSHIP)),
        None,
    )
    if columns is None:  # a village's account reads its own row only: its recorded keys
        columns = [{"key": key, "name": "", "manual": False} for key in row.indicators]
    f = row.population_figures or {}
    lines = [*_births(when, place, f)]
    lines.append(_population(when, place, period.end, f))
    count = len(villages) if row.level != Level.VILLAGE else 0
    lines.append(_members(when, place, row, f, count))
    lines.append(_benefits(when, place, row))
    lines.append(_activities(when, place, row, villages, columns))
    lines.append(_assessment(when, place, row, villages))
    numbered = [f"{n}、{line}" for n, line in enumerate((x for x in lines if x), start=1)]
    label = f"{period.start.year}年{when if when != '全年' else ''}"
    return Summary(title=f"{row.name}{label}计生协工作总结", paragraphs=numbered)


def paragraphs_of(text: str) -> list[str]:
    """The edited text's paragraphs: its non-empty lines, trimmed."""
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _east_asian(run_or_style, size: float) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run_or_style.font.name = FONT
    run_or_style.font.size = Pt(size)
    r_pr = run_or_style.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(fonts)
    fonts.set(qn("w:eastAsia"), FONT_EAST_ASIA)


def summary_docx(title: str, text: str) -> bytes:
    """A Word document: the title centred in bold, then a paragraph per non-empty line, the
    first line indented two characters, in 宋体 (SimSun). python-docx is imported here, not
    with the module: the URLconf imports this module and every request process would pay."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    _east_asian(document.styles["Normal"], 12)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_run = heading.add_run(title)
    title_run.bold = True
    _east_asian(title_run, 16)
    for line in paragraphs_of(text):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(24)
        paragraph.paragraph_format.line_spacing = 1.5
        _east_asian(paragraph.add_run(line), 12)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
