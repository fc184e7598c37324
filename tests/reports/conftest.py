"""A small county with births, a death, an inflow woman and a new member in 2026-H1, for the
snapshot's population figures, sheet 2 and the summary paragraphs (test_population,
test_summary). Worked out by hand in `population_world`'s docstring."""

from __future__ import annotations

import datetime

import pytest

from activities import services as activity_services
from households import services as household_services
from members import services as member_services
from reports import runs
from tests.reports.test_runs import make_scheme


def day(month: int, d: int) -> datetime.date:
    return datetime.date(2026, month, d)


@pytest.fixture
def population_world(world):
    """County A (清河县) of the world: four villages v0 = 第1镇1村, v1 = 第1镇2村 (township t0),
    v2 = 第2镇1村, v3 = 第2镇2村 (t1), each with one registered household of a married couple
    (head M 1980, spouse F 1982: 44 on 2026-06-30, a married woman of childbearing age) and
    the head a member since 2020. Added here, all 户籍常住 unless said:
      v0: daughter F 2020 (mother: the spouse), son M 2026-02-10 (mother: the spouse)
          → one birth, male, 二孩 (her second child)
      v1: a woman F 1990 married, 流入, in no household → 36: childbearing age, floating
      v2: daughter F 2026-01-15 (mother: the spouse) → one birth, female, 一孩; the spouse
          joins as a member on 2026-02-01 (a new member of the period)
      v3: a man M 1940 who died on 2026-03-10 → one death, male
    Activities: v0 理事会 2026-02-10 and 会员代表大会 03-03, v2 会员代表大会 03-05.

    2026-H1 (to 06-30), by hand:
      v0: alive 4 (registered 4), households 1, women 1 (married 1), births 1 M 二孩,
          members 1, joined 0
      v1: alive 3 (registered 2, inflow 1): 户籍人口 2, 常住人口 3, women 2 (registered 1,
          floating 1, married 2), members 1
      v2: alive 3, women 1, births 1 F 一孩, members 2 (head, spouse), joined 1
      v3: alive 2, deaths 1 (male), members 1
      t0 = v0 + v1: 常住 7, 户籍 6, births 1 (M), members 2
      t1 = v2 + v3: 常住 5, 户籍 5, births 1 (F), deaths 1, members 3, joined 1
      county: 常住 12, 户籍 11, 流入 1, households 4, women 5 (registered 4, floating 1,
          married 5), births 2 = 1 M + 1 F (ratio 1.00:1, 100.0), 一孩 1, 二孩 1, deaths 1,
          members 5 (5 ÷ 12 = 41.67%), joined 1
    Scheme (test_runs.make_scheme) over 2026-H1: council_quarterly = quarters met of 2:
    v0 50 (Q1 only), others 0 → all score 0 (met at 100); congress_held v0 1, v2 1 → 20
    each; so v0 20 合格, v2 20 合格, v1 0 不合格, v3 0 不合格; county ranks v0 1, v2 1,
    v1 3, v3 3 (all four in the top three)."""
    a = world.a
    admin = a.users["county_admin"]
    v0, v1, v2, v3 = a.villages
    with a.scope():
        version = make_scheme(a)

        def activity(node, date, **fields):
            activity_services.activity_create(
                actor=admin, association=node, kind="meeting", date=date, **fields
            )

        activity(v0, day(2, 10), meeting_type="council")
        activity(v0, day(3, 3), meeting_type="congress")
        activity(v2, day(3, 5), meeting_type="congress")

        def person(village, household=None, **fields):
            fields.setdefault("marital_status", "unmarried")
            fields.setdefault("name", "某人")
            return household_services.person_create(
                actor=admin, village=village, household=household, **fields
            )

        spouse = {
            h.pk: p for p in a.persons if p.relation_to_head == "spouse" for h in [p.household]
        }
        h0, h2 = a.households[0], a.households[2]
        person(
            v0,
            h0,
            relation_to_head="daughter",
            sex="female",
            birth_date=datetime.date(2020, 5, 1),
            mother=spouse[h0.pk],
        )
        person(
            v0, h0, relation_to_head="son", sex="male", birth_date=day(2, 10), mother=spouse[h0.pk]
        )
        person(
            v1,
            sex="female",
            birth_date=datetime.date(1990, 1, 1),
            marital_status="married",
            residency="inflow",
        )
        person(
            v2,
            h2,
            relation_to_head="daughter",
            sex="female",
            birth_date=day(1, 15),
            mother=spouse[h2.pk],
        )
        person(
            v3,
            sex="male",
            birth_date=datetime.date(1940, 1, 1),
            marital_status="widowed",
            is_deceased=True,
            died_on=day(3, 10),
        )
        member_services.member_register(
            actor=admin,
            person=spouse[h2.pk],
            association=v2,
            group=a.groups[4],
            joined_on=day(2, 1),
        )
    return a, version


def build_run(a, version, callbacks, period="2026-H1", publish=False):
    with callbacks(execute=True), a.scope():
        run, _created = runs.request_run(
            actor=a.users["county_admin"], county=a.county, period_key=period, version=version
        )
    with a.scope():
        run.refresh_from_db()
        if publish:
            run = runs.publish(actor=a.users["county_admin"], run=run)
    return run
