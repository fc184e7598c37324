"""The demo persons and households, generated in memory: each household from one life
situation (young family, three generations, empty nest, bereaved, migrants, …), with names of
the generation, valid ID numbers of the county and believable dates of marriage, birth, death
and only-child certificates."""

from __future__ import annotations

import bisect
import datetime
import random

from associations.models import Association

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
    Relation,
)
from .demo_names import _GIVEN, _SURNAME_CUMULATIVE, SURNAMES, _generation

DIVORCED = "divorced"

EARLIEST_BIRTH = datetime.date(1920, 1, 1)

# Home counties of inflow households (neighbouring counties of Hebei, Shandong and Henan).
INFLOW_REGIONS = ["130529", "130531", "130533", "371525", "371581", "410526"]
# 汉族 mostly; some 回族 and 满族 (GB/T 3304 codes).
ETHNICITY_CUMULATIVE = [("01", 985), ("03", 995), ("11", 1000)]

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
