"""The shared test world: two counties, each with two townships of two villages, each village
with two member groups and a council, and one account of every role (plus accounts in the
sibling township, village and group, so isolation can be tested both ways)."""

from __future__ import annotations

import copy
import datetime
import os
import tempfile
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from activities import services as activity_services
from associations import services
from associations.models import (
    Association,
    Council,
    CouncilPosition,
    CouncilSeat,
    DirectorBackground,
    Job,
    Role,
    User,
)
from associations.scope import Scope, UnscopedReason, activate, unscoped
from households import services as household_services
from households.models import Household, Person
from members import services as member_services
from members.models import Member
from reports.defaults import scheme_create_default

PASSWORD = "Test@pass2026"


@dataclass
class CountyWorld:
    county: Association
    townships: list[Association] = field(default_factory=list)
    villages: list[Association] = field(default_factory=list)  # [t0v0, t0v1, t1v0, t1v1]
    groups: list[Association] = field(default_factory=list)  # two per village, same order
    councils: dict[int, Council] = field(default_factory=dict)  # by association id
    seats: dict[int, CouncilSeat] = field(default_factory=dict)  # one seat per council
    users: dict[str, User] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)  # one per village, same order
    persons: list[Person] = field(default_factory=list)  # two per household: head and spouse
    members: list[Member] = field(default_factory=list)  # each household head, in its group
    schemes: list = field(default_factory=list)  # the default scheme of 2026 (a draft)
    report_run: object = None  # a published report run of 2026-Q1 with its snapshot
    periods: list = field(default_factory=list)  # 2026-Q1, open, with a scheme in use
    funds: list = field(default_factory=list)  # [care fund, loan fund] (benefits)
    loans: list = field(default_factory=list)  # a loan in each village but A's first

    @property
    def nodes(self) -> list[Association]:
        return [self.county, *self.townships, *self.villages, *self.groups]

    def scope(self):
        return activate(Scope.for_node(self.county))


@dataclass
class World:
    a: CountyWorld
    b: CountyWorld

    def all_nodes(self):
        return self.a.nodes + self.b.nodes


def _build_county(code: str, name: str) -> CountyWorld:
    county, admin = services.county_create(
        name=name, division_code=code, admin_username=f"admin_{code}", admin_password=PASSWORD
    )
    world = CountyWorld(county=county, users={"county_admin": admin})
    with activate(Scope.for_node(county)):
        for t in range(2):
            township = services.association_create(
                actor=admin,
                parent=county,
                name=f"{name}第{t + 1}镇",
                division_code=f"{code}{100 + t:03d}",
            )
            world.townships.append(township)
            for v in range(2):
                village = services.association_create(
                    actor=admin,
                    parent=township,
                    name=f"{township.name}{v + 1}村",
                    division_code=f"{township.division_code}{200 + v:03d}",
                )
                world.villages.append(village)
                for g in range(2):
                    world.groups.append(
                        services.association_create(
                            actor=admin,
                            parent=village,
                            name=f"{village.name}第{g + 1}组",
                            division_code=f"{village.division_code}{g + 1:03d}",
                        )
                    )
                council = services.council_create(
                    actor=admin,
                    association=village,
                    term_number=1,
                    starts_on=datetime.date(2024, 1, 1),
                    ends_on=datetime.date(2029, 1, 1),
                )
                world.councils[village.pk] = council
                world.seats[council.pk] = services.council_seat_add(
                    actor=admin,
                    council=council,
                    position=CouncilPosition.PRESIDENT,
                    person_name=f"{village.name}会长",
                    background=DirectorBackground.CADRE,
                )
        accounts = {
            "county_viewer": (county, Role.COUNTY_VIEWER),
            "township_staff": (world.townships[0], Role.TOWNSHIP_STAFF),
            "township_staff_sibling": (world.townships[1], Role.TOWNSHIP_STAFF),
            "village_secretary": (world.villages[0], Role.VILLAGE_SECRETARY),
            "village_secretary_sibling": (world.villages[1], Role.VILLAGE_SECRETARY),
            "group_leader": (world.groups[0], Role.GROUP_LEADER),
            "group_leader_sibling": (world.groups[1], Role.GROUP_LEADER),
        }
        for key, (node, role) in accounts.items():
            world.users[key] = services.user_create(
                actor=admin, username=f"{key}_{code}", password=PASSWORD, node=node, role=role
            )
        for index, village in enumerate(world.villages):
            household = household_services.household_create(
                actor=admin,
                village=village,
                group=world.groups[2 * index],
                number=f"{index + 1:04d}",
                address=f"{village.name}{index + 1}号",
            )
            world.households.append(household)
            for relation, sex, year in (("head", "male", 1980), ("spouse", "female", 1982)):
                world.persons.append(
                    household_services.person_create(
                        actor=admin,
                        village=village,
                        household=household,
                        name=f"{village.name[-2:]}{'甲乙'[sex == 'female']}",
                        id_number=make_id_number(
                            code, datetime.date(year, 1 + index, 1), 10 + index, sex
                        ),
                        relation_to_head=relation,
                        marital_status="married",
                        married_on=datetime.date(2004, 5, 1),
                    )
                )
            household.refresh_from_db()
            world.members.append(
                member_services.member_register(
                    actor=admin,
                    person=world.persons[-2],
                    association=village,
                    group=world.groups[2 * index],
                    joined_on=datetime.date(2020, 5, 29),
                    categories=["elder"],
                    elder_kind="party_veteran",
                )
            )
            if (code, index) != ("130534", 0):  # county A's first village stays bare for tests
                _member_records(admin, world.members[-1], household, village)
            if (code, index) not in {("130534", 0), ("130534", 1)}:  # (and A's second's duties)
                _field_work(admin, world.members[-1], household, village)
            if (code, index) != ("130534", 0):
                _attachments(admin, household, world.councils[village.pk])
        # API keys at the county and at the first village, so the key routes have rows to
        # isolate (account security, issue 12)
        from associations.accounts.services import api_key_create

        for node in (county, world.villages[0]):
            api_key_create(actor=admin, node=node, label=f"{node.name}对接", days=30)
        # Each county's default assessment scheme (a draft), so the scheme routes have rows
        world.schemes.append(scheme_create_default(actor=admin, county=county, year=2026))
        world.report_run = _report_run(admin, county, world.schemes[-1])
        world.periods.append(_assessment_period(admin, county))
        # Funds and loans (care subsidies), so their routes have rows to isolate
        from tests.benefits.factories_funds import world_funds

        world_funds(admin, world)
        # Care subsidies: enrolments in notice with objections (tests/benefits)
        from tests.benefits.factories_workflow import world_rows

        world_rows(admin, world, skip_first_village=code == "130534")
        # Care subsidies: a programme, enrolments and their re-confirmation (benefits)
        from tests.benefits.factories_programs import world_benefit_records

        world_benefit_records(admin, world)
    return world


def _report_run(admin, county, scheme):
    """A published 2026-Q1 run of the county built on its default scheme's draft version
    (rows made directly: the service builds only with a version in use), so the report
    routes have objects to isolate."""
    from associations.bulk import insert_many
    from associations.models import Job
    from associations.periods import parse_period
    from reports.models import ReportRun
    from reports.snapshots import build_rows

    job = Job(kind="report.assessment", label="2026年第一季度考核", step="build", node=county,
              owner=admin, state=Job.State.DONE)  # fmt: skip
    job.place_under(county)
    job.save()
    version = scheme.versions.get()
    run = ReportRun(period_key="2026-Q1", version=version, job=job, number=1, created_by=admin,
                    state=ReportRun.State.DONE)  # fmt: skip
    run.place_under(county)
    run.save()
    insert_many(build_rows(run, parse_period("2026-Q1")), ids=False)
    ReportRun.objects.filter(pk=run.pk).update(published_at=run.created_at, published_by=admin)
    run.refresh_from_db()
    return run


def _assessment_period(admin, county):
    """A scheme in use (one computed and two manual village indicators) and its first
    quarter of 2026 opened: every village has a submission (reports)."""
    from decimal import Decimal

    from reports import periods_services
    from reports import services as report_services

    scheme = report_services.scheme_create(
        actor=admin,
        county=county,
        year=2026,
        name="季度考核细则",
        first_class_min=Decimal(9),
        qualified_min=Decimal(6),
    )
    version = scheme.versions.get()
    report_services.indicator_add(
        actor=admin,
        version=version,
        key="council_quarterly",
        max_score=Decimal(4),
        rule="met",
        threshold=Decimal(1),
    )
    for order, (key, name, top) in enumerate(
        (("archives", "资料档案", 3), ("sign", "阵地标示牌", 3))
    ):
        report_services.indicator_add(
            actor=admin,
            version=version,
            order=order + 2,
            key=key,
            name=name,
            manual=True,
            max_score=Decimal(top),
            rule="met",
            threshold=Decimal(1),
        )
    version = report_services.scheme_version_activate(actor=admin, version=version)
    period = periods_services.period_open(
        actor=admin,
        county=county,
        key="2026-Q1",
        version=version,
        due_on=datetime.date(2026, 4, 10),
    )
    _submission_evidence(period)
    return period


def _submission_evidence(period) -> None:
    """A photo in evidence of the second village's submission (the first stays bare)."""
    from reports import submission_attachments
    from reports.models import Submission
    from tests import attachment_samples as samples

    submission = Submission.objects.select_related("period", "village").order_by(
        "expected__division_code"
    )[1]
    secretary = User.objects.get(node=submission.village, role=Role.VILLAGE_SECRETARY)
    picture = samples.png(size=(8, 8), color=(30, 120, 60))
    submission_attachments.submission_attachment_add(
        actor=secretary, submission=submission, upload=samples.upload("阵地标示牌.png", picture)
    )


def _member_records(admin, member, household, village) -> None:
    """One of each members-app record per village, so every route has objects to isolate."""
    today = datetime.date.today()
    member_services.group_role_assign(actor=admin, member=member, role="leader")
    member_services.contact_household_add(actor=admin, member=member, household=household)
    household_services.hardship_record(
        actor=admin, household=household, year=today.year, reasons=["illness"]
    )
    member_services.pairing_start(actor=admin, member=member, household=household)
    member_services.commendation_add(
        actor=admin,
        kind="excellent_member",
        year=today.year - 1,
        award_level="county",
        member=member,
    )
    team = member_services.volunteer_team_create(
        actor=admin, node=village, name=f"{village.name}志愿者服务队", service="general"
    )
    member_services.volunteer_join(actor=admin, team=team, member=member)
    export = Job(
        kind="export.members", step="build", node=village, owner=admin, output_name="x.xlsx"
    )
    export.place_under(village)
    export.save()
    job = Job(
        kind="import.members",
        step="validate",
        node=village,
        input_name="花名册.xlsx",
        file_type="xlsx",
        owner=admin,
    )
    job.place_under(village)
    job.save()


def _field_work(admin, member, household, village) -> None:
    """An activity and a home visit with external references, well before the months the
    activities tests work by hand."""
    activity_services.activity_create(
        actor=admin,
        association=member.group,
        kind="meeting",
        meeting_type="group_meeting",
        date=datetime.date(2023, 6, 15),
        attendees=[member],
        external_ref=f"world-activity-{village.division_code}",
    )
    activity_services.visit_record(
        actor=admin,
        visitor=member,
        household=household,
        visited_on=datetime.date(2023, 6, 16),
        purpose="policy",
        external_ref=f"world-visit-{village.division_code}",
    )


def _attachments(admin, household, council) -> None:
    """A photo of the household, of the council and of the village's activity (if any), so
    every attachment route has objects to isolate. Their files go to a folder of the session
    (tests that read files set their own MEDIA_ROOT)."""
    from activities.models import Activity
    from associations import council_attachments
    from tests import attachment_samples as samples

    picture = samples.png(size=(8, 8), color=(household.pk % 256, 90, 90))
    household_services.household_attachment_add(
        actor=admin, household=household, upload=samples.upload("户档案.png", picture)
    )
    council_attachments.council_attachment_add(
        actor=admin, council=council, upload=samples.upload("选举报告.png", picture)
    )
    for activity in Activity.objects.filter(village=household.village_id):
        activity_services.activity_attachment_add(
            actor=admin, activity=activity, upload=samples.upload("活动照片.png", picture)
        )


def make_id_number(region: str, birth: datetime.date, sequence: int, sex: str) -> str:
    """A valid 18-digit resident ID number (GB 11643) for test data."""
    from stdnum.cn import ric

    serial = sequence * 2 + (1 if sex == "male" else 0)
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(scope="session")
def _world_rows(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    """Built once per session and committed; every test runs in a transaction rolled back
    at its end, so each sees exactly these rows. (pytest-django runs the transactional tests,
    whose teardown empties the tables, after all the others.)"""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("world-media"))
    with django_db_blocker.unblock(), unscoped(reason=UnscopedReason.TEST_FIXTURES), media:
        return World(a=_build_county("130534", "清河县"), b=_build_county("130535", "临西县"))


@pytest.fixture
def world(db, _world_rows) -> World:
    # Fresh Python objects for each test: a test may change the instances it is handed.
    return copy.deepcopy(_world_rows)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Files a test writes (demo photos, uploads) go to a temporary folder, never the
    checkout's var/media (tests that look at files set their own MEDIA_ROOT)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the member list keeps its ratio for minutes."""
    cache.clear()


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser("operator", "op@example.com", PASSWORD)


@pytest.fixture
def api_client():
    return APIClient()


def login(client, user) -> None:
    client.force_login(user)


# --- CI: a skipped test that needs PostgreSQL or Redis is a failure there -------------------
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI_REQUIRE_SERVICES") and _skipped:
        print(f"\nCI_REQUIRE_SERVICES: {len(_skipped)} skipped test(s) count as failures:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1


@pytest.fixture
def system_temp(tmp_path, monkeypatch):
    """The system temp folder, pointed at an empty folder of the test's: what a build leaves
    there would be personal data outside every job's folder."""
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
