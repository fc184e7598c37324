"""The default scheme a county starts from (`scheme_create_default`): the duties and targets
the users' own documents name, each indicator with the words it comes from (`source`).

Where each comes from (seeds/000 is the collection of work plans, seeds/001 the half-year
summaries, seeds/002 the village association regulation):
- 理事会按季召开: seed 002 art. 8 一 "每季度应召开一次以上计生协理事会"; seed 000 村协会计划
  "七、定期召开理事会".
- 每月开展活动的小组占比 and 小组每月开展活动: seed 000 镇协会计划 "女组长每月开展不少于一次的
  会员小组活动".
- 小组长每月入户随访达标率 and its group form: seed 000 镇协会计划 "对本组育龄群众开展入门访视
  不少于3次".
- 会长每月深入小组指导达标率: seed 000 镇协会计划 "各村(居)会长每月必须深入3个以上小组指导工作".
- 会员占常住人口比例 (target 10%): seed 001 "会员总数达到总人口的10%以上".
- 主题日宣传活动开展率: seed 000 区协会计划 "组织开展“5.29”全国会员活动日,充分利用“世界人口
  日”、“公开信发表纪念日”、“10.28男性健康日”和“12.1世界艾滋病日”等重大节日".
- 计生困难家庭帮扶覆盖率: seed 000 乡协会计划 "加大对计生困难家庭、特殊家庭帮扶关爱力度"; seed
  002 art. 8 三 and 七 (救助活动, 结对帮扶).
- 理事会符合“5-3-3”/“3-2-1”模式: DOMAIN §1 (the village council model).
- 年度召开会员代表大会: seed 002 art. 8 一 "定期召开好计生协会员代表大会"; seed 000 村协会计划
  "召开两次计生协会会员会议和理事会议".
- 年度举办会员培训: seed 002 art. 8 九 "举办年度会员学习培训班".
- 资料档案齐全 (manual): seed 002 art. 12, nine archives, one point off for each missing.
- 宣传报道 (manual): seed 000 乡协会计划 "要求每个村投一份“计划生育方面的报道”,达不到的年终
  考核实行扣分".
- Performance pay held back (50 / 10 yuan a month): seed 000 镇协会计划 "村级会长每月预留50元、
  女组长每月预留10元,作为年终考核绩效工资".
The grade lines (一流 ≥ 90, 合格 ≥ 70) are not in the seeds: they are defaults each county
edits before putting the scheme in use."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from associations.models import Association

from . import services
from .models import AssessmentScheme, IndicatorLevel, Rule

D = Decimal
VILLAGE, GROUP = IndicatorLevel.VILLAGE, IndicatorLevel.GROUP
DEFAULT_NAME = "村级计生协会考核细则"

# (key, manual, level, max score, rule, parameters, source)
DEFAULT_INDICATORS = [
    ("council_quarterly", False, VILLAGE, 10, Rule.MET, {"threshold": 100}, "细则第8条一"),
    (
        "group_activity_share",
        False,
        VILLAGE,
        15,
        Rule.LINEAR,
        {"low": 50, "high": 100},
        "镇协会计划:女组长每月开展不少于一次的会员小组活动",
    ),
    (
        "leader_visit_share",
        False,
        VILLAGE,
        15,
        Rule.LINEAR,
        {"low": 50, "high": 100},
        "镇协会计划:对本组育龄群众开展入门访视不少于3次",
    ),
    (
        "president_group_visits",
        False,
        VILLAGE,
        5,
        Rule.SHARE_OF_TARGET,
        {"threshold": 100},
        "镇协会计划:各村(居)会长每月必须深入3个以上小组指导工作",
    ),
    (
        "membership_ratio",
        False,
        VILLAGE,
        10,
        Rule.SHARE_OF_TARGET,
        {"threshold": 10},
        "半年总结:会员总数达到总人口的10%以上",
    ),
    (
        "themed_day_publicity",
        False,
        VILLAGE,
        10,
        Rule.SHARE_OF_TARGET,
        {"threshold": 100},
        "区协会计划:5.29、7.11、9.25、10.28、12.1 等重大节日开展宣传",
    ),
    (
        "hardship_assisted_share",
        False,
        VILLAGE,
        10,
        Rule.SHARE_OF_TARGET,
        {"threshold": 100},
        "乡协会计划:加大对计生困难家庭、特殊家庭帮扶关爱力度",
    ),
    ("council_model", False, VILLAGE, 5, Rule.MET, {"threshold": 1}, "理事会“5-3-3”模式"),
    ("congress_held", False, VILLAGE, 5, Rule.MET, {"threshold": 1}, "细则第8条一"),
    ("training_held", False, VILLAGE, 5, Rule.MET, {"threshold": 1}, "细则第8条九"),
    (
        "archives",
        True,
        VILLAGE,
        5,
        Rule.DEDUCTION,
        {"threshold": 9, "step": 1},
        "细则第12条:九类资料档案",
    ),
    (
        "news_report",
        True,
        VILLAGE,
        5,
        Rule.DEDUCTION,
        {"threshold": 1, "step": 5},
        "乡协会计划:每个村投一份计划生育方面的报道",
    ),
    (
        "group_activity_months",
        False,
        GROUP,
        50,
        Rule.SHARE_OF_TARGET,
        {"threshold": 100},
        "镇协会计划:女组长每月开展不少于一次的会员小组活动",
    ),
    (
        "leader_visit_months",
        False,
        GROUP,
        50,
        Rule.SHARE_OF_TARGET,
        {"threshold": 100},
        "镇协会计划:对本组育龄群众开展入门访视不少于3次",
    ),
]
# Duties done once a year count in the year's evaluation only: a congress or a training held
# later in the year must not fail the village in Q1 or at mid-year (seed 002 art. 8 一 and 九:
# "定期召开好会员代表大会", "举办年度会员学习培训班"); the news report is checked at year end
# (seed 000 乡协会计划: "达不到的年终考核实行扣分").
YEAR_ONLY = {"congress_held", "training_held", "news_report"}
MANUAL_NAMES = {"archives": "资料档案齐全", "news_report": "宣传报道"}
MANUAL_NOTES = {
    "archives": "乡镇专干按第12条九类档案逐项检查,填写齐全的类数。",
    "news_report": "填写本期报送并被采用的报道篇数。",
}


@transaction.atomic
def scheme_create_default(*, actor, county: Association, year: int) -> AssessmentScheme:
    """The default scheme for the year, as a draft: village indicators worth 100 points in
    all and two group indicators worth 100, seeded from the users' documents (see above)."""
    scheme = services.scheme_create(
        actor=actor,
        county=county,
        year=year,
        name=DEFAULT_NAME,
        note="按县协会考核要求预置,启用前请核对分值与分数线。",
    )
    version = scheme.versions.get()
    for order, (key, manual, level, max_score, rule, params, source) in enumerate(
        DEFAULT_INDICATORS, 1
    ):
        services.indicator_add(
            actor=actor,
            version=version,
            order=order,
            key=key,
            name=MANUAL_NAMES.get(key, ""),
            manual=manual,
            level=level,
            max_score=D(max_score),
            rule=rule,
            source=source,
            note=MANUAL_NOTES.get(key, ""),
            in_quarter=key not in YEAR_ONLY,
            in_half=key not in YEAR_ONLY,
            **{name: D(value) for name, value in params.items()},
        )
    return scheme
