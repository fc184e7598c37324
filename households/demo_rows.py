"""The rows the demo seed copies: the column lists of each table, the person and household
rows (the family categories derived on the way), and this year's and last year's hardship
survey with the assistance given."""

from __future__ import annotations

import datetime
import random

from associations.models import Association, Kind

from .categories import HouseholdFacts, PersonFacts, family_categories, family_types
from .demo_people import _Household
from .models import (
    AssistanceKind,
    HardshipAssessment,
    HardshipReason,
    Household,
    Person,
    RegistrationKind,
)

PERSON_COLUMNS = [
    "id", "county_id", "township_id", "village_id", "group_id", "household_id",
    "relation_to_head", "name", "name_initials", "id_number", "sex", "birth_date", "ethnicity",
    "phone", "address", "residency", "marital_status", "married_on", "is_deceased", "died_on",
    "disability_grade", "mother_id", "only_child_certificate_number",
    "only_child_certificate_date", "registration_kind", "created_at", "updated_at",
    "id_number_index", "phone_index",
]  # fmt: skip
HOUSEHOLD_COLUMNS = [
    "id", "county_id", "township_id", "village_id", "group_id", "number", "head_id", "address",
    "residency", "phone", "categories", "family_types", "categories_refreshed_on", "created_at",
    "updated_at", "phone_index",
]  # fmt: skip
HARDSHIP_COLUMNS = [
    "county_id", "township_id", "village_id", "group_id", "household_id", "year", "reasons",
    "status", "notes", "assessed_on",
]  # fmt: skip
ASSISTANCE_COLUMNS = [
    "county_id", "township_id", "village_id", "group_id", "household_id", "kind", "given_on",
    "amount", "goods", "given_by", "notes", "created_at",
]  # fmt: skip


HARDSHIP_NOTES = {
    HardshipReason.ILLNESS: "家庭成员患慢性病,医疗支出大",
    HardshipReason.DISABILITY: "家庭成员残疾,需长期照料",
    HardshipReason.DISASTER: "房屋受灾受损,生产生活困难",
    HardshipReason.POVERTY: "缺乏劳动力,家庭收入低",
    HardshipReason.OTHER: "独生子女死亡,老人无人照料",
}
HARDSHIP_SHARE = 0.033  # households in this year's or last year's survey


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


class _Sealed:
    """Encryption at rest: the stored form and the blind index of an encrypted field (the
    COPY writes what the model's field would)."""

    def __init__(self, model, name: str):
        self.field = model._meta.get_field(name)

    def __call__(self, value) -> tuple:
        return (
            self.field.get_db_prep_value(value, None, prepared=True),
            self.field.index_of(value),
        )


def _household_rows(homes, today, now):
    phone = _Sealed(Household, "phone")
    for home in homes:
        stored_phone, phone_index = phone(home.head.phone)
        yield (
            home.id, *_keys(home), home.number, home.head.id, home.address, home.residency,
            stored_phone, home.categories, home.types, today, now, now, phone_index,
        )  # fmt: skip


# One villager in about seven holds a non-agricultural registration (户口性质); enterprise and
# campus associations' staff all do.
NON_AGRICULTURAL_EVERY = 7


def _registration_kind(home: _Household, person) -> str:
    if home.village.kind != Kind.REGIONAL or person.id % NON_AGRICULTURAL_EVERY == 0:
        return RegistrationKind.NON_AGRICULTURAL
    return RegistrationKind.AGRICULTURAL


def _person_rows(homes, townships, today, now):
    id_number, phone = _Sealed(Person, "id_number"), _Sealed(Person, "phone")
    for home in homes:
        home.address = _address(home, townships.get(home.village.township_id))
        _categorize(home, today)
        keys = _keys(home)
        for p in home.persons:
            stored_id, id_index = id_number(p.id_number or None)
            stored_phone, phone_index = phone(p.phone)
            yield (
                p.id, *keys, home.id, p.relation, p.name, p.initials, stored_id, p.sex,
                p.birth, p.ethnicity, stored_phone, home.address, p.residency, p.marital,
                p.married_on, p.is_deceased, p.died_on, p.disability,
                p.mother.id if p.mother else None, p.certificate_number, p.certificate_date,
                _registration_kind(home, p), now, now, id_index, phone_index,
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
