"""Demo members for a seeded county: about 12% of the living adults of every village join the
village's association, in bulk (the large county gets ~50,000 members in seconds).

`seed_members` runs inside the county's scope, after the persons and households exist
(households' demo). It is idempotent: villages that already have members are skipped. Every
inserted row gets its change record, in bulk, like the rest of the demo data."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from associations.history import build_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, CouncilPosition, CouncilSeat, Level
from households.demo import years_before
from households.models import Household, Person

from .models import (
    Commendation,
    ContactHousehold,
    ElderKind,
    GroupRole,
    Member,
    MemberCategory,
    SeatHolder,
    VolunteerMembership,
    VolunteerTeam,
)
from .services import MEMBER_FIELDS

ADULT_AGE = 18
BACKBONE_SHARE = 0.15
SUB_TEAMS = [
    ("文艺宣传分队", VolunteerTeam.Service.ARTS),
    ("生活服务分队", VolunteerTeam.Service.LIVING),
    ("健身指导分队", VolunteerTeam.Service.FITNESS),
    ("计生信息分队", VolunteerTeam.Service.INFORMATION),
]
VOLUNTEERS_PER_TOWNSHIP = 12
BATCH = 5000


def _categories(rng: random.Random, *, age: int, sex: str) -> tuple[list[str], str]:
    """A believable spread: elders among the old, activists among women of childbearing age,
    backbones and wealth leaders among the working-age, a few village cadres."""
    roll = rng.random()
    if age >= 60 and roll < 0.55:
        return [MemberCategory.ELDER], rng.choice(ElderKind.values)
    if sex == "female" and 20 <= age <= 49 and roll < 0.6:
        return [MemberCategory.FERTILE_ACTIVIST], ""
    if roll < 0.05:
        return [MemberCategory.VILLAGE_CADRE], ""
    if roll < 0.35:
        return [MemberCategory.PRODUCTION_BACKBONE], ""
    if roll < 0.5:
        return [MemberCategory.WEALTH_LEADER], ""
    return [], ""


def _record(rows, node_of, fields) -> list[ChangeRecord]:
    return [
        build_change(
            actor=None,
            node=node_of(row),
            obj=row,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(row, fields),
        )
        for row in rows
    ]


@transaction.atomic
def seed_members(*, county: Association, rng: random.Random, share: float = 0.12) -> int:
    """Register about `share` of each village's living adults as members. Returns how many
    members were created. Villages that already have members are left alone, so running it
    again creates nothing. Call it inside the county's scope."""
    today = timezone.localdate()
    seeded = set(Member.objects.values_list("village_id", flat=True).distinct())
    nodes = {
        n.pk: n
        for n in Association.objects.filter(level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GROUP])
    }
    adults = (
        Person.objects.filter(is_deceased=False, birth_date__lte=years_before(today, ADULT_AGE))
        .exclude(village_id__in=seeded)
        .order_by("village_id", "id")
        .values_list("id", "village_id", "group_id", "birth_date", "sex", "name")
    )
    by_village: dict[int, list[tuple]] = defaultdict(list)
    for row in adults.iterator(chunk_size=BATCH):
        by_village[row[1]].append(row)

    members: list[Member] = []
    joined_from = datetime.date(2005, 1, 1)
    span = (today - joined_from).days
    for village_id in sorted(by_village, key=lambda pk: nodes[pk].division_code):
        village = nodes[village_id]
        people = by_village[village_id]
        chosen = rng.sample(people, max(1, round(len(people) * share)))
        chosen.sort(key=lambda row: (row[2] or 0, row[0]))  # numbered group by group
        for number, (person_id, _village, group_id, birth, sex, name) in enumerate(chosen, 1):
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            categories, elder_kind = _categories(rng, age=age, sex=sex)
            member = Member(
                # The person as far as the change record's label needs it: no query per row.
                person=Person(pk=person_id, name=name),
                association=village,
                member_number=f"{number:04d}",
                joined_on=joined_from + datetime.timedelta(days=rng.randrange(span)),
                categories=categories,
                elder_kind=elder_kind,
                is_backbone=rng.random() < BACKBONE_SHARE,
            )
            group = nodes.get(group_id)  # a person's group is their household's
            member.place_under(group if group and group.parent_id == village.pk else village)
            members.append(member)

    volunteers = _pick_volunteers(members, nodes, rng)
    for member in volunteers:
        member.categories = sorted({*member.categories, MemberCategory.VOLUNTEER})
    Member.objects.bulk_create(members, batch_size=BATCH)
    changes = _record(members, lambda m: nodes[m.group_id or m.village_id], MEMBER_FIELDS)

    changes += _seed_group_roles(members, nodes, rng)
    changes += _seed_president_holders(members, nodes)
    changes += _seed_commendations(members, nodes, rng, today.year - 1)
    changes += _seed_volunteer_teams(volunteers, nodes, today)
    record_changes(changes)
    return len(members)


def _seed_group_roles(members, nodes, rng) -> list[ChangeRecord]:
    """One leader and 2-3 contact-household heads per group; each head liaises with a few
    households of the group."""
    by_group: dict[int, list[Member]] = defaultdict(list)
    for member in members:
        if member.group_id:
            by_group[member.group_id].append(member)
    households: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = Household.objects.filter(group__isnull=False).values_list("id", "group_id", "number")
    for household_id, group_id, number in rows:
        households[group_id].append((household_id, number))
    starts_on = datetime.date(2023, 3, 1)
    roles, links = [], []
    for group_id, group_members in by_group.items():
        picked = rng.sample(group_members, min(len(group_members), 1 + rng.choice([2, 3])))
        for index, member in enumerate(picked):
            role = GroupRole(
                member=member,
                role=GroupRole.Role.LEADER if index == 0 else GroupRole.Role.CONTACT_HEAD,
                starts_on=starts_on,
            )
            role.place_under(nodes[group_id])
            roles.append(role)
            if index == 0:
                continue
            options = households.get(group_id, [])
            for household_id, number in rng.sample(options, min(len(options), rng.randint(3, 5))):
                household = Household(pk=household_id, number=number)  # enough for the label
                link = ContactHousehold(member=member, household=household, since=starts_on)
                link.place_under(nodes[group_id])
                links.append(link)
    GroupRole.objects.bulk_create(roles, batch_size=BATCH)
    ContactHousehold.objects.bulk_create(links, batch_size=BATCH)
    return _record(roles, lambda r: nodes[r.group_id], ["member", "role", "starts_on"]) + _record(
        links, lambda c: nodes[c.group_id], ["member", "household", "since"]
    )


def _seed_president_holders(members, nodes) -> list[ChangeRecord]:
    """Each village council's president is one of the village's members (the longest-standing
    one in a group who leads none): linked to the seat (SeatHolder), and the seat's name
    follows the member's, as `services.seat_link_member` does. The duties count the
    president's visits through it."""
    leaders = set(
        GroupRole.objects.filter(role=GroupRole.Role.LEADER).values_list("member_id", flat=True)
    )
    senior: dict[int, Member] = {}
    for member in members:
        if member.group_id is None:
            continue
        current = senior.get(member.village_id)
        # Not a group leader if the village has anyone else: their visits would count twice.
        rank = (member.pk in leaders, member.joined_on)
        if current is None or rank < (current.pk in leaders, current.joined_on):
            senior[member.village_id] = member
    seats = list(
        CouncilSeat.objects.filter(
            position=CouncilPosition.PRESIDENT,
            council__association_id__in=list(senior),
            holders__isnull=True,
        ).values_list("id", "council__association_id", "person_name")
    )
    holders, renamed = [], []
    for seat_id, village_id, person_name in seats:
        member = senior[village_id]
        seat = CouncilSeat(
            pk=seat_id, position=CouncilPosition.PRESIDENT, person_name=member.person.name
        )
        holder = SeatHolder(seat=seat, member=member)
        holder.place_under(nodes[village_id])
        holders.append(holder)
        if person_name != member.person.name:
            renamed.append(seat)
    SeatHolder.objects.bulk_create(holders, batch_size=BATCH)
    CouncilSeat.objects.bulk_update(renamed, ["person_name"], batch_size=BATCH)
    return _record(holders, lambda h: nodes[h.village_id], ["seat", "member"])


def _seed_commendations(members, nodes, rng, year) -> list[ChangeRecord]:
    """A few of last year's commendations: excellent and five-good members in each township."""
    by_township: dict[int, list[Member]] = defaultdict(list)
    for member in members:
        by_township[member.township_id].append(member)
    rows = []
    for township_members in by_township.values():
        for kind, how_many in (
            (Commendation.Kind.EXCELLENT_MEMBER, 3),
            (Commendation.Kind.FIVE_GOOD_MEMBER, 2),
        ):
            for member in rng.sample(township_members, min(len(township_members), how_many)):
                commendation = Commendation(
                    kind=kind,
                    year=year,
                    award_level=Commendation.AwardLevel.COUNTY,
                    member=member,
                )
                commendation.place_under(nodes[member.group_id or member.village_id])
                rows.append(commendation)
    Commendation.objects.bulk_create(rows, batch_size=BATCH)
    return _record(
        rows,
        lambda c: nodes[c.group_id or c.village_id],
        ["kind", "year", "award_level", "member"],
    )


def _pick_volunteers(members, nodes, rng) -> list[Member]:
    by_township: dict[int, list[Member]] = defaultdict(list)
    for member in members:
        by_township[member.township_id].append(member)
    picked = []
    for township_members in by_township.values():
        picked += rng.sample(township_members, min(len(township_members), VOLUNTEERS_PER_TOWNSHIP))
    return picked


def _seed_volunteer_teams(volunteers, nodes, today) -> list[ChangeRecord]:
    """A volunteer team per township, with its sub-teams, and the picked members in them."""
    by_township: dict[int, list[Member]] = defaultdict(list)
    for member in volunteers:
        by_township[member.township_id].append(member)
    teams, subs = [], []
    for township_id in by_township:
        township = nodes[township_id]
        team = VolunteerTeam(name=f"{township.name}计生志愿者服务队")
        team.place_under(township)
        teams.append(team)
    VolunteerTeam.objects.bulk_create(teams, batch_size=BATCH)
    for team in teams:
        for name, service in SUB_TEAMS:
            sub = VolunteerTeam(name=name, service=service, parent=team)
            sub.place_under(nodes[team.township_id])
            subs.append(sub)
    VolunteerTeam.objects.bulk_create(subs, batch_size=BATCH)
    subs_of: dict[int, list[VolunteerTeam]] = defaultdict(list)
    for sub in subs:
        subs_of[sub.township_id].append(sub)
    joined = []
    for township_id, township_members in by_township.items():
        for index, member in enumerate(township_members):
            team = subs_of[township_id][index % len(SUB_TEAMS)]
            link = VolunteerMembership(team=team, member=member, joined_on=today)
            link.place_under(nodes[township_id])
            joined.append(link)
    VolunteerMembership.objects.bulk_create(joined, batch_size=BATCH)
    return _record([*teams, *subs], lambda t: nodes[t.township_id], ["name", "service", "parent"])
