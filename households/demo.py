"""Believable demo persons and households for a seeded county.

`seed_people` runs inside the county's scope once the tree exists (associations.demo calls it).
Households are drawn from a few life situations — young families, families with school-age
or grown children, three generations under one roof, elderly couples whose children left,
bereaved (失独) and disabled-child (伤残) families, migrant households — so that every family
category, every happy-family type and the figures page (births by order, deaths, women 15-49)
have something to show. Names are common Chinese names of each generation; ID numbers are
valid GB 11643 numbers of the county (of the home county for inflow households), unique, with
the sex parity and birth date of the person.

Speed: the large county (150,000 households, 500,000 persons) is generated in memory, with ids
taken from the sequences first (heads and mothers reference persons of the same batch), then
written with COPY. PostgreSQL refuses `COPY FROM` into a table whose row-level security
applies to the current role (the app role, CI), so for such a role the rows are copied into a
temporary table and moved with one INSERT … SELECT, which the policy checks like any insert.
The deferred foreign-key checks are run at the end, so that their cost shows in the timings
and an error surfaces here rather than at commit.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from associations.history import build_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, Kind, Level
from associations.scope import current_scope

from . import identity
from .categories import (
    FEMALE,
    INFLOW,
    MALE,
    MARRIED,
    OUTFLOW,
    REGISTERED,
    UNMARRIED,
    WIDOWED,
    HouseholdFacts,
    PersonFacts,
    Relation,
    family_categories,
    family_types,
)
from .models import (
    AssistanceKind,
    AssistanceRecord,
    HardshipAssessment,
    HardshipReason,
    Household,
    Person,
)
from .services import HOUSEHOLD_FIELDS

DIVORCED = "divorced"


@dataclass(frozen=True)
class PeopleScale:
    """How many households a seeded county gets. Either a range per village, or a county
    total spread over the villages by their size. With `persons`, households are topped up
    with elderly parents (三代同堂) until the county has exactly that many persons."""

    households_per_village: tuple[int, int] | None = None
    households: int | None = None
    persons: int | None = None
    # One change record per household; otherwise one summary record per village.
    history_per_household: bool = True


PEOPLE_SCALES = {
    "demo": PeopleScale(households_per_village=(8, 15)),
    "large": PeopleScale(households=150_000, persons=500_000, history_per_household=False),
}

# --- names ------------------------------------------------------------------------------------

# Common surnames with rough weights (per mille); a few with a surname reading (单, 解, 翟, 曾).
SURNAME_WEIGHTS = {
    "王": 71, "李": 70, "张": 68, "刘": 54, "陈": 45, "杨": 31, "赵": 23, "黄": 22, "周": 21,
    "吴": 20, "徐": 17, "孙": 15, "胡": 13, "朱": 13, "高": 12, "林": 12, "何": 12, "郭": 12,
    "马": 11, "罗": 9, "梁": 8, "宋": 8, "郑": 8, "谢": 7, "韩": 7, "唐": 6, "冯": 6, "于": 6,
    "董": 6, "肖": 5, "程": 5, "曹": 5, "袁": 5, "邓": 5, "许": 5, "傅": 4, "沈": 4, "曾": 4,
    "彭": 4, "吕": 4, "苏": 4, "卢": 4, "蒋": 4, "蔡": 4, "贾": 4, "丁": 3, "魏": 3, "薛": 3,
    "叶": 3, "阎": 3, "余": 3, "潘": 3, "杜": 3, "戴": 3, "夏": 2, "钟": 2, "汪": 2, "田": 2,
    "任": 2, "姜": 2, "范": 2, "方": 2, "石": 2, "姚": 2, "谭": 2, "邹": 2, "熊": 2, "金": 2,
    "陆": 2, "郝": 2, "孔": 2, "白": 2, "崔": 2, "康": 2, "毛": 2, "邱": 2, "秦": 2, "史": 2,
    "侯": 1, "邵": 1, "孟": 1, "段": 1, "雷": 1, "尹": 1, "常": 1, "武": 1, "乔": 1, "贺": 1,
    "单": 1, "解": 1, "翟": 1, "牛": 1, "庞": 1, "耿": 1, "齐": 1, "欧阳": 1,
}  # fmt: skip
SURNAMES = list(SURNAME_WEIGHTS)
_SURNAME_CUMULATIVE = list(itertools.accumulate(SURNAME_WEIGHTS.values()))

# Given names (one or two characters) by the decade people were born in, and by sex.
GIVEN_NAMES = {
    (1900, MALE): "建国 国庆 德胜 振华 永福 文明 志强 国强 树林 宝山 连生 春生 金生 长海 玉林 "
    "凤山 福林 德明 有才 庆丰 新民 万福 学礼 福 贵 山 林 发 明",
    (1900, FEMALE): "秀英 桂兰 玉珍 凤英 淑芬 秀兰 桂芳 玉兰 素珍 金凤 秀云 桂英 玉梅 凤兰 "
    "淑珍 翠兰 秀珍 玉华 桂荣 兰英 春兰 荣 珍 兰 凤 英",
    (1960, MALE): "建军 志刚 建华 红军 卫东 海涛 晓东 建平 国华 立新 永刚 学军 海军 建伟 "
    "志勇 立军 伟 磊 勇 军 强 刚 涛 斌 鹏 辉 杰 亮 波 峰",
    (1960, FEMALE): "丽娟 红霞 海燕 晓燕 丽华 春梅 红梅 秀梅 晓红 丽萍 玉霞 桂红 艳红 彩霞 "
    "雪梅 丽丽 丽 静 敏 燕 娟 艳 霞 红 芳 萍 玲 莉 娜",
    (1990, MALE): "浩然 宇航 子豪 俊杰 一鸣 博文 家豪 浩宇 天宇 志鹏 明轩 思远 文博 晨阳 "
    "鹏飞 嘉伟 振宇 子健 旭东 浩 宇 帅 鑫 博 磊 伟 超",
    (1990, FEMALE): "欣怡 雨桐 佳怡 思琪 梦瑶 雨欣 婷婷 晓雪 佳琪 欣然 静怡 婉婷 梦洁 晨曦 "
    "文静 慧敏 嘉欣 雪 倩 颖 璐 悦 宁",
    (2010, MALE): "子轩 梓豪 宇轩 一诺 子墨 梓睿 奕辰 沐宸 锦程 皓轩 俊熙 铭泽 天佑 宇泽 "
    "思源 浩宇 宸 睿 博 瑞",
    (2010, FEMALE): "梓涵 诗涵 子涵 可馨 欣妍 紫萱 语汐 若曦 梦琪 雨萱 依诺 沐晴 芊芊 梓萱 "
    "安琪 欣悦 诗琪 语桐 悦 彤",
}
_GIVEN = {key: names.split() for key, names in GIVEN_NAMES.items()}


EARLIEST_BIRTH = datetime.date(1920, 1, 1)


def _generation(year: int) -> int:
    return 2010 if year >= 2010 else 1990 if year >= 1990 else 1960 if year >= 1960 else 1900


# Home counties of inflow households (neighbouring counties of Hebei, Shandong and Henan).
INFLOW_REGIONS = ["130529", "130531", "130533", "371525", "371581", "410526"]
# 汉族 mostly; some 回族 and 满族 (GB/T 3304 codes).
ETHNICITY_CUMULATIVE = [("01", 985), ("03", 995), ("11", 1000)]

HARDSHIP_NOTES = {
    HardshipReason.ILLNESS: "家庭成员患慢性病,医疗支出大",
    HardshipReason.DISABILITY: "家庭成员残疾,需长期照料",
    HardshipReason.DISASTER: "房屋受灾受损,生产生活困难",
    HardshipReason.POVERTY: "缺乏劳动力,家庭收入低",
    HardshipReason.OTHER: "独生子女死亡,老人无人照料",
}

# Household situations and their weights; the rare ones are also forced into small counties.
KIND_WEIGHTS = {
    "family": 330,
    "young_family": 100,
    "three_generation": 100,
    "empty_nest": 180,
    "elderly_single": 60,
    "single": 50,
    "newlywed": 25,
    "inflow": 40,
    "outflow": 50,
    "bereaved": 5,
    "disabled_child": 5,
}
# Each small county gets at least these, so that every category and figure has an example.
REQUIRED_KINDS = [
    "bereaved",
    "disabled_child",
    "two_daughters",
    "certified_one_child",
    "newborn",
    "newborn",
    "newborn",
    "death_this_year",
    "death_this_year",
    "newlywed",
    "three_generation",
    "inflow",
    "outflow",
    "empty_nest",
]
# Households the head's elderly parents never join (they are the elderly ones, or alone).
NO_PARENTS_KINDS = {"empty_nest", "elderly_single", "death_this_year", "bereaved", "single"}
HARDSHIP_SHARE = 0.033  # households in this year's or last year's survey


# --- in-memory rows ---------------------------------------------------------------------------


class _Person:
    __slots__ = (
        "birth",
        "certificate_date",
        "certificate_number",
        "died_on",
        "disability",
        "ethnicity",
        "id",
        "id_number",
        "initials",
        "is_deceased",
        "marital",
        "married_on",
        "mother",
        "name",
        "phone",
        "relation",
        "residency",
        "sex",
        "surname",
    )

    def __init__(self, relation: str, surname: str, given: str, sex: str, birth: datetime.date):
        self.relation, self.surname, self.name = relation, surname, surname + given
        self.sex, self.birth = sex, birth
        self.id = None
        self.id_number = self.initials = self.phone = ""
        self.ethnicity = "01"
        self.residency = REGISTERED
        self.marital = UNMARRIED
        self.married_on = self.died_on = self.certificate_date = None
        self.is_deceased = False
        self.disability = None
        self.mother: _Person | None = None
        self.certificate_number = ""


class _Household:
    __slots__ = (
        "address",
        "categories",
        "group",
        "id",
        "kind",
        "number",
        "persons",
        "residency",
        "types",
        "village",
    )

    def __init__(self, village: Association, group: Association | None, number: str, kind: str):
        self.village, self.group, self.number, self.kind = village, group, number, kind
        self.id = None
        self.address = ""
        self.residency = REGISTERED
        self.persons: list[_Person] = []
        self.categories: list[str] = []
        self.types: list[str] = []

    @property
    def head(self) -> _Person:
        return self.persons[0]


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    return years_before(day, -years)


# --- the generator ----------------------------------------------------------------------------


class _PeopleGenerator:
    def __init__(self, *, county: Association, rng: random.Random, today: datetime.date):
        self.county, self.rng, self.today = county, rng, today
        self.year_start = datetime.date(today.year, 1, 1)
        self.used_numbers: set[str] = set()  # the first 17 characters of every ID number
        self.initials: dict[str, str] = {}
        self.certificates = 0

    # -- small draws --

    def surname(self) -> str:
        draw = self.rng.random() * _SURNAME_CUMULATIVE[-1]
        return SURNAMES[bisect.bisect(_SURNAME_CUMULATIVE, draw)]

    def days(self, low: int, high: int) -> datetime.timedelta:
        return datetime.timedelta(days=low + int(self.rng.random() * (high - low + 1)))

    def between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        if last <= first:
            return first
        return first + self.days(0, (last - first).days)

    def born_aged(self, youngest: int, oldest: int) -> datetime.date:
        """A birth date of someone aged `youngest`..`oldest` (whole years) today."""
        last = years_before(self.today, youngest)
        first = years_before(self.today, oldest + 1) + datetime.timedelta(days=1)
        return self.between(first, last)

    def age(self, birth: datetime.date) -> int:
        before_birthday = (self.today.month, self.today.day) < (birth.month, birth.day)
        return self.today.year - birth.year - before_birthday

    def recent_birth(self, *, within_years: int, this_year: float) -> datetime.date:
        """A birth in the last few years; a share of them in the current year, so that the
        year's figures have births whatever today's date."""
        if self.rng.random() < this_year:
            return self.between(self.year_start, self.today)
        return self.between(years_before(self.today, within_years), self.today)

    def ethnicity(self) -> str:
        draw = self.rng.randrange(1000)
        return next(code for code, limit in ETHNICITY_CUMULATIVE if draw < limit)

    def phone(self) -> str:
        return f"1{self.rng.choice('35789')}{int(self.rng.random() * 10**9):09d}"

    # -- persons --

    def person(
        self,
        relation: str,
        sex: str,
        birth: datetime.date,
        *,
        surname: str | None = None,
        region: str | None = None,
    ) -> _Person:
        birth = min(max(birth, EARLIEST_BIRTH), self.today)
        names = _GIVEN[_generation(birth.year), sex]
        given = names[int(self.rng.random() * len(names))]
        person = _Person(relation, surname or self.surname(), given, sex, birth)
        initials = self.initials.get(person.name)
        if initials is None:  # names repeat: pinyin once per distinct name
            initials = self.initials[person.name] = identity.pinyin_initials(person.name)
        person.initials = initials
        person.id_number = self.id_number(region or self.county.division_code, birth, sex)
        if 18 <= self.age(birth) <= 75 and self.rng.random() < 0.8:
            person.phone = self.phone()
        return person

    def id_number(self, region: str, birth: datetime.date, sex: str) -> str:
        """A GB 11643 number: region, birth date, a sequence odd for men and even for women,
        and the check digit; unique in the county."""
        parity = 1 if sex == MALE else 0
        prefix = f"{region}{birth.year}{birth.month:02d}{birth.day:02d}"
        used, draw = self.used_numbers, self.rng.random
        for _ in range(8):  # a random sequence; then the first free one
            body = f"{prefix}{int(draw() * 500) * 2 + parity:03d}"
            if body not in used:
                break
        else:
            free = (f"{prefix}{n * 2 + parity:03d}" for n in range(500))
            body = next((b for b in free if b not in used), None)
            if body is None:
                raise RuntimeError(f"more than 500 persons of one sex born {birth} in {region}")
        used.add(body)
        # calc_check_digit expects the check digit's position; its value is ignored.
        return body + identity.ric.calc_check_digit(body + "0")

    def couple(self, head_ages: tuple[int, int], *, wife_min_age: int = 20, region=None):
        """A husband of the given ages and his wife, up to a year older or four years younger
        and at least `wife_min_age`."""
        head_birth = self.born_aged(*head_ages)
        wife_birth = head_birth + self.days(-365, 4 * 365)
        latest = years_before(self.today, wife_min_age)
        if wife_birth > latest:
            wife_birth = latest - self.days(0, 3 * 365)
        head = self.person(Relation.HEAD, MALE, head_birth, region=region)
        wife = self.person(Relation.SPOUSE, FEMALE, wife_birth, region=region)
        return head, wife

    def marry(self, head: _Person, wife: _Person, *, before: datetime.date | None = None):
        """Married before the first child (or at 21-27 when there is none), never before the
        legal ages."""
        legal = max(_years_after(head.birth, 22), _years_after(wife.birth, 20))
        if before is None:
            married = _years_after(wife.birth, self.rng.randint(21, 27)) + self.days(0, 300)
        else:
            married = before - self.days(300, 1000)
        married = min(max(married, legal), self.today)
        if before is not None:
            married = min(married, before)
        for spouse in (head, wife):
            spouse.marital, spouse.married_on = MARRIED, married

    def child(
        self, mother: _Person, surname: str, birth: datetime.date, *, relation: str | None = None,
        sex: str | None = None, region: str | None = None,
    ) -> _Person:  # fmt: skip
        sex = sex or (MALE if self.rng.random() < 0.52 else FEMALE)
        if relation is None:
            relation = Relation.SON if sex == MALE else Relation.DAUGHTER
        child = self.person(relation, sex, birth, surname=surname, region=region)
        child.mother = mother
        return child

    def children(
        self, father: _Person, mother: _Person, count: int, *, youngest_on=None, sexes=None,
        relation=None, region=None,
    ) -> list[_Person]:  # fmt: skip
        """Up to `count` children of the mother, born at her ages 21-38, 1.5-6 years apart;
        with `youngest_on`, the last one is born that day and the others before it."""
        earliest = _years_after(mother.birth, 21)
        births: list[datetime.date] = []
        if youngest_on is not None:
            day = youngest_on
            for _ in range(count):
                if day < earliest:
                    break
                births.insert(0, day)
                day -= self.days(550, 5 * 365)
        else:
            day = _years_after(mother.birth, self.rng.randint(21, 29)) + self.days(0, 364)
            for _ in range(count):
                if day > self.today or day > _years_after(mother.birth, 42):
                    break
                births.append(day)
                day += self.days(550, 6 * 365)
        return [
            self.child(
                mother,
                father.surname,
                birth,
                sex=sexes[index] if sexes else None,
                relation=relation,
                region=region,
            )
            for index, birth in enumerate(births)
        ]

    def certify(self, parents: list[_Person], child: _Person, *, always: bool = False) -> None:
        """独生子女父母光荣证: issued 1-4 years after the only child's birth, until 2015."""
        issued = min(child.birth + self.days(365, 4 * 365), self.today)
        if issued.year > 2015 and not always:
            return
        self.certificates += 1
        number = f"{self.county.division_code}{issued.year}{self.certificates:05d}"
        for parent in parents:
            parent.certificate_number, parent.certificate_date = number, issued

    def die(self, person: _Person, first: datetime.date, last: datetime.date) -> None:
        person.is_deceased = True
        person.died_on = self.between(max(first, person.birth), min(last, self.today))
        person.phone = ""

    # -- households --

    def household(self, kind: str, home: _Household) -> None:
        getattr(self, f"_{kind}")(home)
        ethnicity = self.ethnicity()
        for person in home.persons:  # mothers come before their children
            person.ethnicity = person.mother.ethnicity if person.mother else ethnicity
        if home.kind in ("inflow", "outflow"):
            home.residency = INFLOW if home.kind == "inflow" else OUTFLOW
            for person in home.persons:
                person.residency = home.residency

    def _family(self, home: _Household, *, count=None, sexes=None, region=None, head_ages=(30, 56)):
        head, wife = self.couple(head_ages, region=region)
        if count is None:
            count = self.rng.choices([0, 1, 2, 3], weights=[5, 35, 45, 15])[0]
        kids = self.children(head, wife, count, sexes=sexes, region=region)
        self.marry(head, wife, before=kids[0].birth if kids else None)
        for kid in kids:
            if self.age(kid.birth) >= 20 and self.rng.random() < 0.35:
                kid.residency = OUTFLOW  # working in the city
        if len(kids) == 1 and 1982 <= kids[0].birth.year <= 2014 and self.rng.random() < 0.7:
            self.certify([head, wife], kids[0])
        home.persons = [head, wife, *kids]

    def _young_family(self, home: _Household, *, youngest_on=None, region=None):
        head, wife = self.couple((24, 36), wife_min_age=22, region=region)
        if youngest_on is None:
            youngest_on = self.recent_birth(within_years=6, this_year=0.05)
        youngest_on = max(youngest_on, _years_after(wife.birth, 21))
        count = self.rng.choices([1, 2, 3], weights=[60, 35, 5])[0]
        kids = self.children(head, wife, count, youngest_on=youngest_on, region=region)
        self.marry(head, wife, before=kids[0].birth if kids else None)
        home.persons = [head, wife, *kids]

    def _newborn(self, home: _Household):
        self._young_family(home, youngest_on=self.between(self.year_start, self.today))

    def _two_daughters(self, home: _Household):
        self._family(home, count=2, sexes=[FEMALE, FEMALE], head_ages=(40, 52))

    def _certified_one_child(self, home: _Household):
        head, wife = self.couple((40, 55))
        (kid,) = self.children(head, wife, 1)
        self.marry(head, wife, before=kid.birth)
        self.certify([head, wife], kid, always=True)
        home.persons = [head, wife, kid]

    def _inflow(self, home: _Household):
        region = self.rng.choice(INFLOW_REGIONS)
        if self.rng.random() < 0.5:
            self._young_family(home, region=region)
        else:
            self._family(home, region=region)

    def _outflow(self, home: _Household):
        self._family(home)

    def _three_generation(self, home: _Household):
        head, wife = self.couple((50, 68))
        son_birth = _years_after(wife.birth, self.rng.randint(22, 28)) + self.days(0, 364)
        if son_birth > years_before(self.today, 23):  # married sons are 23 or older
            son_birth = years_before(self.today, 23) - self.days(0, 4 * 365)
        son = self.child(wife, head.surname, son_birth, sex=MALE)
        self.marry(head, wife, before=son.birth)
        in_law = self.person(Relation.CHILD_IN_LAW, FEMALE, son_birth + self.days(-3 * 365, 365))
        youngest = self.recent_birth(within_years=16, this_year=0.04)
        grandchildren = self.children(
            son, in_law, self.rng.choice([1, 2, 2]), youngest_on=youngest,
            relation=Relation.GRANDCHILD,
        )  # fmt: skip
        self.marry(son, in_law, before=grandchildren[0].birth if grandchildren else None)
        home.persons = [head, wife, son, in_law, *grandchildren]
        daughter_birth = son_birth + self.days(700, 7 * 365)
        if self.rng.random() < 0.2 and self.age(min(daughter_birth, self.today)) >= 16:
            # An unmarried daughter still at home.
            home.persons.append(self.child(wife, head.surname, daughter_birth, sex=FEMALE))
        elif 1982 <= son.birth.year <= 2014 and self.rng.random() < 0.5:
            self.certify([head, wife], son)

    def _empty_nest(self, home: _Household, *, died_this_year: bool = False):
        head, wife = self.couple((62, 86), wife_min_age=60)
        self.marry(head, wife)
        home.persons = [head, wife]
        if died_this_year or self.rng.random() < 0.12:
            first = self.year_start if died_this_year else years_before(self.today, 8)
            self.die(head, first, self.today)
            # The widow heads the household now; the late husband stays on record.
            head.relation, wife.relation = Relation.SPOUSE, Relation.HEAD
            wife.marital = WIDOWED
            home.persons = [wife, head]

    def _death_this_year(self, home: _Household):
        self._empty_nest(home, died_this_year=True)

    def _elderly_single(self, home: _Household):
        sex = FEMALE if self.rng.random() < 0.65 else MALE
        head = self.person(Relation.HEAD, sex, self.born_aged(65, 93))
        head.marital, head.married_on = WIDOWED, _years_after(head.birth, 22)
        home.persons = [head]

    def _single(self, home: _Household):
        head = self.person(Relation.HEAD, MALE, self.born_aged(25, 55))
        if self.rng.random() < 0.3:
            head.marital = DIVORCED
            head.married_on = _years_after(head.birth, self.rng.randint(23, 30))
        home.persons = [head]

    def _newlywed(self, home: _Household):
        head, wife = self.couple((23, 32))
        married = self.between(self.today - datetime.timedelta(days=700), self.today)
        married = max(married, _years_after(head.birth, 22), _years_after(wife.birth, 20))
        for spouse in (head, wife):
            spouse.marital, spouse.married_on = MARRIED, married
        home.persons = [head, wife]

    def _bereaved(self, home: _Household):
        head, wife = self.couple((50, 72))
        (kid,) = self.children(head, wife, 1)
        self.marry(head, wife, before=kid.birth)
        self.certify([head, wife], kid, always=True)
        self.die(kid, _years_after(kid.birth, 5), self.today)
        home.persons = [head, wife, kid]

    def _disabled_child(self, home: _Household):
        head, wife = self.couple((40, 66))
        (kid,) = self.children(head, wife, 1)
        self.marry(head, wife, before=kid.birth)
        self.certify([head, wife], kid, always=True)
        kid.disability = self.rng.choice([1, 2, 2, 3, 3])
        kid.phone = ""
        home.persons = [head, wife, kid]

    def add_parents(self, home: _Household, count: int) -> int:
        """The head's widowed mother (or both parents) moves in; returns how many came."""
        head = home.head
        gap = self.rng.randint(22, 32)
        birth = years_before(head.birth, gap) + self.days(-200, 200)
        if self.age(birth) > 95 or head.sex != MALE:
            return 0
        region = head.id_number[:6]  # from the same county as their son
        mother = self.person(Relation.PARENT, FEMALE, birth, region=region)
        mother.marital, mother.married_on = WIDOWED, _years_after(birth, 21)
        added = [mother]
        if count > 1:
            father_birth = birth - self.days(0, 4 * 365)
            if self.age(father_birth) <= 95:
                father = self.person(
                    Relation.PARENT, MALE, father_birth, surname=head.surname, region=region
                )
                mother.marital = father.marital = MARRIED
                father.married_on = mother.married_on
                added.insert(0, father)
        for parent in added:
            parent.residency = home.head.residency
            parent.ethnicity = home.head.ethnicity
        home.persons.extend(added)
        return len(added)


# --- seeding ----------------------------------------------------------------------------------


PERSON_COLUMNS = [
    "id", "county_id", "township_id", "village_id", "group_id", "household_id",
    "relation_to_head", "name", "name_initials", "id_number", "sex", "birth_date", "ethnicity",
    "phone", "address", "residency", "marital_status", "married_on", "is_deceased", "died_on",
    "disability_grade", "mother_id", "only_child_certificate_number",
    "only_child_certificate_date", "created_at", "updated_at",
]  # fmt: skip
HOUSEHOLD_COLUMNS = [
    "id", "county_id", "township_id", "village_id", "group_id", "number", "head_id", "address",
    "residency", "phone", "categories", "family_types", "categories_refreshed_on", "created_at",
    "updated_at",
]  # fmt: skip
HARDSHIP_COLUMNS = [
    "county_id", "township_id", "village_id", "group_id", "household_id", "year", "reasons",
    "status", "notes", "assessed_on",
]  # fmt: skip
ASSISTANCE_COLUMNS = [
    "county_id", "township_id", "village_id", "group_id", "household_id", "kind", "given_on",
    "amount", "goods", "given_by", "notes", "created_at",
]  # fmt: skip


def _check_columns(model, columns: list[str]) -> None:
    """The COPY column lists must follow the models: a new column fails loudly here."""
    expected = {f.column for f in model._meta.concrete_fields} - ({"id"} - set(columns))
    if expected != set(columns):
        raise RuntimeError(
            f"{model._meta.label}: demo columns differ from the model by "
            f"{sorted(expected ^ set(columns))}; update households/demo.py."
        )


def _allocate_ids(table: str, count: int) -> list[int] | range:
    """`count` ids from the table's sequence. Only the first and last come back to Python
    when they form one block (no concurrent session took ids in between): the usual case."""
    if not count:
        return []
    sequence = "pg_get_serial_sequence(%s, 'id')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(v), max(v) FROM (SELECT nextval({sequence}) AS v "
            "FROM generate_series(1, %s)) AS taken",
            [table, count],
        )
        first, last = cursor.fetchone()
        if last - first + 1 == count:
            return range(first, last + 1)
        # Another session took ids in between: leave this block unused, keep every id.
        cursor.execute(f"SELECT nextval({sequence}) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def _copy(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY the rows into the model's table. PostgreSQL refuses COPY FROM into a table whose
    row-level security applies to the current role (the app role, CI): then the rows go into
    a temporary table first and move with one INSERT … SELECT, which the policy checks."""
    _check_columns(model, columns)
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_security_active(%s::regclass)", [table])
        (policed,) = cursor.fetchone()
        target = f"demo_staging_{table}" if policed else table
        if policed:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} AS SELECT {names} FROM {table} LIMIT 0"
            )
        try:
            statement = f"COPY {target} ({names}) FROM STDIN"
            # A writer thread sends the data, so producing rows overlaps the server's work.
            with cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for row in rows:
                    copy.write_row(row)
            if policed:
                cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target}")
            return cursor.cursor.rowcount
        finally:
            if policed:
                cursor.execute(f"DROP TABLE IF EXISTS {target}")


def _check_deferred_foreign_keys(*models) -> None:
    """Run the deferred foreign-key checks of these tables now, then defer them again."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(conname), ', ') FROM pg_constraint "
            "WHERE contype = 'f' AND condeferrable AND condeferred "
            "AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        (names,) = cursor.fetchone()
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _analyze(*models) -> None:
    """Planner statistics for the new rows, so the first list page after seeding is planned
    for 500,000 persons, not for an empty table (autovacuum may be off or slow to come)."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def _spread(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to the weights, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _places(county: Association):
    nodes = list(
        Association.objects.filter(
            level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GROUP], county_id=county.pk
        ).order_by("division_code")
    )
    townships = {n.pk: n for n in nodes if n.level == Level.TOWNSHIP}
    villages = [n for n in nodes if n.level == Level.VILLAGE]
    groups: dict[int, list[Association]] = defaultdict(list)
    for node in nodes:
        if node.level == Level.GROUP:
            groups[node.parent_id].append(node)
    return townships, villages, groups


def _next_numbers(county: Association) -> dict[int, int]:
    """Per village, the highest numeric household number already taken (new ones follow)."""
    taken: dict[int, int] = defaultdict(int)
    for village_id, number in Household.objects.filter(county_id=county.pk).values_list(
        "village_id", "number"
    ):
        if number.isdigit():
            taken[village_id] = max(taken[village_id], int(number))
    return taken


def _resolve_scale(scale: str | PeopleScale) -> PeopleScale:
    return scale if isinstance(scale, PeopleScale) else PEOPLE_SCALES[scale]


def seed_people(
    *,
    county: Association,
    scale: str | PeopleScale,
    rng: random.Random,
    today: datetime.date | None = None,
) -> dict:
    """Persons, households, hardship survey entries and assistance records for every village
    of the county; returns the counts and the seconds each phase took."""
    active = current_scope()
    if active is None or active.county_id != county.pk:
        raise RuntimeError("seed_people runs inside the county's scope.")
    shape = _resolve_scale(scale)
    today = today or timezone.localdate()
    timings: dict[str, float] = {}
    clock, cpu = time.perf_counter(), time.process_time()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = round(now - clock, 2)
        clock = now

    with transaction.atomic():
        townships, villages, groups = _places(county)
        generator = _PeopleGenerator(county=county, rng=rng, today=today)
        generator.used_numbers.update(
            n[:17]
            for n in Person.objects.filter(
                county_id=county.pk, id_number__isnull=False
            ).values_list("id_number", flat=True)
        )
        homes = _plan_households(shape, villages, groups, _next_numbers(county), rng)
        for home in homes:
            generator.household(home.kind, home)
        persons = sum(len(h.persons) for h in homes)
        if shape.persons is not None:
            persons += _top_up(generator, homes, shape.persons - persons)
        else:
            for home in homes:
                if home.kind in ("family", "young_family") and rng.random() < 0.2:
                    persons += generator.add_parents(home, rng.choice([1, 1, 2]))
        lap("generate")

        person_ids = iter(_allocate_ids(Person._meta.db_table, persons))
        household_ids = iter(_allocate_ids(Household._meta.db_table, len(homes)))
        for home in homes:
            home.id = next(household_ids)
            for person in home.persons:
                person.id = next(person_ids)
        lap("allocate_ids")

        now = timezone.now()
        # Persons first: their rows are produced while the server inserts (the categories of
        # each household are derived on the way); foreign keys are checked at the end.
        rows = _person_rows(homes, townships, today, now)
        counts = {"persons": _copy(Person, PERSON_COLUMNS, rows)}
        lap("copy_persons")  # with the categories, derived on the way
        rows = _household_rows(homes, today, now)
        counts["households"] = _copy(Household, HOUSEHOLD_COLUMNS, rows)
        lap("copy_households")
        hardship, assistance = _hardship_and_assistance(homes, rng, today, townships, now)
        counts["hardship"] = _copy(HardshipAssessment, HARDSHIP_COLUMNS, hardship)
        counts["assistance"] = _copy(AssistanceRecord, ASSISTANCE_COLUMNS, assistance)
        lap("copy_hardship_assistance")
        _check_deferred_foreign_keys(Household, Person, HardshipAssessment, AssistanceRecord)
        lap("foreign_key_checks")
        counts["change_records"] = _record_history(shape, homes, villages, groups)
        lap("change_records")
        _analyze(Household, Person, HardshipAssessment, AssistanceRecord)
        lap("analyze")
    counts["timings"] = timings
    counts["seconds"] = round(sum(timings.values()), 2)
    # This process's CPU time: on a busy machine far below the wall time above.
    counts["python_cpu_seconds"] = round(time.process_time() - cpu, 2)
    return counts


def _plan_households(shape, villages, groups, next_numbers, rng) -> list[_Household]:
    if shape.households_per_village is not None:
        low, high = shape.households_per_village
        per_village = [rng.randint(low, high) for _ in villages]
    else:
        weights = [max(len(groups[v.pk]), 1) * rng.uniform(0.7, 1.3) for v in villages]
        per_village = _spread(shape.households or 0, weights)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    homes = []
    for village, count in zip(villages, per_village, strict=True):
        village_groups = groups[village.pk]
        first = next_numbers.get(village.pk, 0) + 1
        drawn = rng.choices(kinds, weights=weights, k=count)
        for offset, kind in enumerate(drawn):
            group = (
                village_groups[offset * len(village_groups) // count] if village_groups else None
            )
            homes.append(_Household(village, group, f"{first + offset:04d}", kind))
    # Small counties still get an example of every rare situation.
    examples = rng.sample(homes, min(len(homes), len(REQUIRED_KINDS)))
    for home, kind in zip(examples, REQUIRED_KINDS, strict=False):
        home.kind = kind
    return homes


def _top_up(generator: _PeopleGenerator, homes: list[_Household], missing: int) -> int:
    """Elderly parents move in with families until the county has the target population."""
    added = 0
    candidates = [h for h in homes if h.kind not in NO_PARENTS_KINDS]
    generator.rng.shuffle(candidates)
    for index, home in enumerate(candidates):
        needed = missing - added
        if needed <= 0:
            break
        both = needed > 1 and (generator.rng.random() < 0.3 or needed > len(candidates) - index)
        added += generator.add_parents(home, 2 if both else 1)
    return added


def _facts(home: _Household) -> HouseholdFacts:
    return HouseholdFacts(
        residency=home.residency,
        persons=tuple(
            PersonFacts(
                key=p.id,
                relation=p.relation,
                sex=p.sex,
                birth_date=p.birth,
                is_deceased=p.is_deceased,
                died_on=p.died_on,
                residency=p.residency,
                marital_status=p.marital,
                married_on=p.married_on,
                disability_grade=p.disability,
                has_only_child_certificate=bool(p.certificate_number),
                mother_key=p.mother.id if p.mother else None,
            )
            for p in home.persons
        ),
    )


def _categorize(home: _Household, today: datetime.date) -> None:
    facts = _facts(home)
    home.categories = sorted(c.value for c in family_categories(facts, today=today))
    home.types = sorted(t.value for t in family_types(facts, today=today))


def _keys(home: _Household) -> tuple:
    village = home.village
    return (
        village.county_id,
        village.township_id,
        village.pk,
        home.group.pk if home.group else None,
    )


def _address(home: _Household, township: Association | None) -> str:
    place = home.village.name
    if home.village.kind != Kind.REGIONAL:  # an enterprise or campus association: staff housing
        place = place.removesuffix("企业计生协会").removesuffix("计生协会") + "职工宿舍"
    return f"{township.name if township else ''}{place}{int(home.number)}号"


def _household_rows(homes, today, now):
    for home in homes:
        yield (
            home.id, *_keys(home), home.number, home.head.id, home.address, home.residency,
            home.head.phone, home.categories, home.types, today, now, now,
        )  # fmt: skip


def _person_rows(homes, townships, today, now):
    for home in homes:
        home.address = _address(home, townships.get(home.village.township_id))
        _categorize(home, today)
        keys = _keys(home)
        for p in home.persons:
            yield (
                p.id, *keys, home.id, p.relation, p.name, p.initials, p.id_number, p.sex,
                p.birth, p.ethnicity, p.phone, home.address, p.residency, p.marital,
                p.married_on, p.is_deceased, p.died_on, p.disability,
                p.mother.id if p.mother else None, p.certificate_number, p.certificate_date,
                now, now,
            )  # fmt: skip


def _hardship_and_assistance(homes, rng, today, townships, now):
    """About 3% of households in this year's or last year's hardship survey: most stay in the
    roster, some exited this year, some are new; some of them, and the special families,
    received visits, health checks or school aid."""
    if not homes:
        return [], []
    boost = {"bereaved": 12, "disabled_child": 12, "elderly_single": 4, "empty_nest": 2}
    ranked = sorted(homes, key=lambda h: rng.random() ** (1 / boost.get(h.kind, 1)), reverse=True)
    chosen = ranked[: max(4, round(len(homes) * HARDSHIP_SHARE))]
    year = today.year
    in_roster, exited = HardshipAssessment.Status.IN_ROSTER, HardshipAssessment.Status.EXITED
    hardship, assistance = [], []
    for index, home in enumerate(chosen):
        reasons = _hardship_reasons(home, rng)
        notes = ";".join(HARDSHIP_NOTES[HardshipReason(r)] for r in reasons)
        story = index % 7  # 0: new this year, 1: exited this year, else in both rosters
        row = (*_keys(home), home.id)
        if story != 0:
            surveyed = datetime.date(year - 1, 3, 1) + datetime.timedelta(days=rng.randrange(28))
            hardship.append((*row, year - 1, reasons, in_roster.value, notes, surveyed))
        surveyed = min(
            datetime.date(year, 3, 1) + datetime.timedelta(days=rng.randrange(28)), today
        )
        if story == 1:
            hardship.append(
                (*row, year, reasons, exited.value, "家庭收入增加,经评议退出", surveyed)
            )
        else:
            hardship.append((*row, year, reasons, in_roster.value, notes, surveyed))
            if rng.random() < 0.6:
                assistance.append(_spring_visit(home, rng, today, townships, now))
    for home in homes:
        if home.kind in ("bereaved", "disabled_child"):
            assistance.append(_spring_visit(home, rng, today, townships, now))
            checked = min(datetime.date(today.year, 5, 29), today)
            assistance.append(
                _assistance(
                    home, AssistanceKind.HEALTH_CHECK, checked, now, goods="免费健康体检一次"
                )
            )
        elif home.kind == "two_daughters" or (
            "two_daughters" in home.categories and rng.random() < 0.05
        ):
            given = min(datetime.date(today.year, 9, 1), today)
            assistance.append(
                _assistance(
                    home, AssistanceKind.SCHOOL_AID, given, now, amount=1000, notes="关爱女孩助学"
                )
            )
    return hardship, assistance


def _hardship_reasons(home: _Household, rng: random.Random) -> list[str]:
    if home.kind == "bereaved":
        return sorted([HardshipReason.OTHER.value, HardshipReason.ILLNESS.value])
    if home.kind == "disabled_child":
        return [HardshipReason.DISABILITY.value]
    common = [HardshipReason.ILLNESS, HardshipReason.DISABILITY, HardshipReason.DISASTER]
    common.append(HardshipReason.POVERTY)
    drawn = rng.choices(common, weights=[40, 20, 10, 30], k=rng.choice([1, 1, 2]))
    return sorted({r.value for r in drawn})


def _assistance(
    home, kind, given_on, now, *, amount=None, goods="", given_by="县计生协", notes=""
) -> tuple:
    return (*_keys(home), home.id, kind.value, given_on, amount, goods, given_by, notes, now)


def _spring_visit(home, rng, today, townships, now) -> tuple:
    """春节慰问: money or rice, flour and oil, from the county, township or village."""
    township = townships.get(home.village.township_id)
    given_by = rng.choice(
        ["县计生协", f"{township.name}计生协" if township else "乡镇计生协", home.village.name]
    )
    given_on = min(datetime.date(today.year, 1, 20) + datetime.timedelta(rng.randrange(20)), today)
    if rng.random() < 0.5:
        amount, goods = rng.choice([300, 500, 800, 1000]), ""
    else:
        amount, goods = None, "米一袋、面一袋、油一桶"
    return _assistance(
        home, AssistanceKind.VISIT, given_on, now, amount=amount, goods=goods,
        given_by=given_by, notes="春节慰问",
    )  # fmt: skip


def _record_history(shape: PeopleScale, homes, villages, groups) -> int:
    """One change record per household; for the large scale one summary per village
    ("批量生成演示数据" with the counts), so history stays complete without 150,000 rows."""
    if shape.history_per_household:
        nodes = {g.pk: g for members in groups.values() for g in members}
        nodes.update({v.pk: v for v in villages})
        records = []
        for home in homes:
            household = Household(
                id=home.id,
                number=home.number,
                head_id=home.head.id,
                address=home.address,
                residency=home.residency,
                phone=home.head.phone,
            )
            household.place_under(home.group or home.village)
            records.append(
                build_change(
                    actor=None,
                    node=nodes[household.group_id or household.village_id],
                    obj=household,
                    action=ChangeRecord.Action.CREATE,
                    before=None,
                    after=snapshot(household, HOUSEHOLD_FIELDS),
                )
            )
        record_changes(records)
        return len(records)
    households: Counter[int] = Counter()
    persons: Counter[int] = Counter()
    for home in homes:
        households[home.village.pk] += 1
        persons[home.village.pk] += len(home.persons)
    records = []
    for village in villages:
        if not households[village.pk]:
            continue
        record = build_change(
            actor=None,
            node=village,
            obj=village,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after={"households": households[village.pk], "persons": persons[village.pk]},
        )
        record.object_type, record.object_id = Household._meta.label, 0
        record.object_label = "批量生成演示数据"
        records.append(record)
    record_changes(records)
    return len(records)
