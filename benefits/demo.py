"""The demo county's care subsidies (关爱扶助): programmes made from the national templates, their
funds, enrolments in every state of the workflow, payment batches, loans and a re-confirmation
(`seed_benefits`, called by associations.demo.seed_county once the people, members and
activities exist, and before the assessment year so that its published reports count them).

Everything is written through the services of benefits/, as a clerk would: programmes and funds
(program_services, fund_services), applications judged by the programmes' rules among the demo
persons (apply_services), public notices, an objection, the township's review and return and
the county's approval (workflow_services), bank accounts (payments_accounts), batches, a failed
line and its re-issue (payments_services), loans and repayments (loan_services) and the
re-confirmation (reconfirmation_services). So every step has its event and change record,
money moves only through the ledger, and the services' rules hold: a notice runs its 7 days
before the review, a batch pays nobody twice, a fund never goes below zero.

The dates are those of a county running the programmes for more than a year up to `today`:
last year's roll applied in March, noticed, reviewed and approved, paid in December (one
line failed and was re-issued in January); this year's new applicants at every step, from
enrolled to still in notice; loans of the last two and a half years. The services take these
dates as their parameters (applied on, notice start, enrolled on, paid on, entry date). What
they stamp with the moment they run (an event's time, a notice's or batch's creation and
confirmation time, an account's registration time) is set afterwards to the day the step is
dated (`Backdating`), as reports.demo does for its submission events: the demo writes its
two years in seconds, and a history of steps all dated today would contradict their own
dates. No rule reads those stamps except the assessment's on-time indicator, which reads a
batch's confirmation time and so should see it in the quarter the story puts it in.

Bounded at any scale: at most `ROLL_CAP` persons on a programme's roll, `NEW_CAP` new
applicants, the first villages (by division code) that have candidates; the large county's
extra persons change only the few set-based candidate queries."""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from associations.models import Association, Level, Role, User
from associations.scope import current_scope

from . import demo_money
from .apply_services import enrollment_apply_many
from .candidates import Evaluation, Show
from .demo_money import at
from .fund_services import fund_create
from .models import (
    DisbursementBatch,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Fund,
    Loan,
    Program,
    ProgramTemplate,
    PublicNotice,
)
from .notice_services import notice_publish, objection_record
from .program_services import program_create
from .program_templates import TEMPLATES
from .reconfirmation_services import reconfirmation_run
from .workflow_services import enrollment_approve, enrollment_return, enrollment_review

Action = EnrollmentEvent.Action
Status = EnrollmentStatus

# Persons a programme's roll (enrolled last year) and its new applicants of this year take at
# most, from the first villages that have candidates (most of the demo county's villages; the
# candidates of the others are left for their villages to apply for).
ROLL_CAP = {ProgramTemplate.REWARD_ASSISTANCE: 50, ProgramTemplate.SPECIAL_ASSISTANCE: 12}
NEW_CAP = {ProgramTemplate.REWARD_ASSISTANCE: 12, ProgramTemplate.SPECIAL_ASSISTANCE: 12}
# This year's last applicants of each programme, from the last: where they stand today. The
# ones before them are enrolled.
TAIL_STAGES = {
    ProgramTemplate.REWARD_ASSISTANCE: [Status.APPLIED, Status.IN_NOTICE],
    ProgramTemplate.SPECIAL_ASSISTANCE: [
        Status.IN_NOTICE,
        Status.IN_NOTICE,
        Status.REVIEWED,
        Status.REJECTED,
    ],
}

REVIEW_OPINION = "经入户核实,家庭情况与申报一致,公示期间无异议,同意上报。"
APPROVE_OPINION = "经县计生协审批,同意纳入扶助。"
RETURN_REASON = "申报材料缺少子女伤残(死亡)证明复印件,请补齐后重新申报。"
OBJECTION = ("村民(匿名)", "反映该户子女已在外地落户,家庭情况与公示内容不符,请核实。")


@dataclass
class Actors:
    """Who does each step: the village secretary and township staff accounts where the demo has
    them (the first village of the first township), the county admin elsewhere (a county admin
    may act for any level)."""

    admin: User
    secretaries: dict[int, User] = field(default_factory=dict)  # village id → account
    staff: dict[int, User] = field(default_factory=dict)  # township id → account

    @classmethod
    def of(cls, county: Association, admin: User) -> Actors:
        actors = cls(admin=admin)
        accounts = User.objects.filter(
            node__county_id=county.pk,
            is_active=True,
            role__in=[Role.VILLAGE_SECRETARY, Role.TOWNSHIP_STAFF],
        ).order_by("id")
        for user in accounts:
            mine = actors.secretaries if user.role == Role.VILLAGE_SECRETARY else actors.staff
            mine.setdefault(user.node_id, user)
        return actors

    def applier(self, village: Association) -> User:
        return self.secretaries.get(village.pk, self.admin)

    def reviewer(self, village: Association) -> User:
        return self.staff.get(village.township_id, self.admin)


@dataclass
class Backdating:
    """The moments to set once the services are done (see the module's docstring)."""

    events: dict[tuple[str, datetime.datetime], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    notices: dict[int, datetime.datetime] = field(default_factory=dict)
    batches: dict[int, tuple[datetime.datetime, datetime.datetime | None]] = field(
        default_factory=dict
    )

    def event(self, action: str, day: datetime.date, hour: int, enrollments) -> None:
        self.events[(action, at(day, hour))].extend(e.pk for e in enrollments)

    def apply(self) -> None:
        for (action, moment), ids in self.events.items():
            EnrollmentEvent.objects.filter(enrollment_id__in=ids, action=action).update(at=moment)
        for pk, moment in self.notices.items():
            PublicNotice.objects.filter(pk=pk).update(created_at=moment)
        for pk, (created, confirmed) in self.batches.items():
            changes = {"created_at": created}
            if confirmed is not None:
                changes["confirmed_at"] = confirmed
            DisbursementBatch.objects.filter(pk=pk).update(**changes)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@dataclass
class Demo:
    county: Association
    actors: Actors
    rng: random.Random
    today: datetime.date
    villages: list[Association]
    backdating: Backdating = field(default_factory=Backdating)

    @property
    def admin(self) -> User:
        return self.actors.admin

    @property
    def year(self) -> int:
        return self.today.year

    def past(self, day: datetime.date) -> datetime.date:
        """The day, or today when the story's day has not come yet (early in the year)."""
        return min(day, self.today)

    def applicable(
        self, program: Program, *, year: int, on: datetime.date, cap: int
    ) -> list[tuple[Association, list[int]]]:
        """Up to `cap` persons the programme's rule finds eligible for `year` and not yet
        applied for, village by village in the county's order (one query a village, stopping
        at the cap)."""
        found, total = [], 0
        for village in self.villages:
            if total >= cap:
                break
            evaluation = Evaluation(program=program, node=village, year=year, today=on)
            applicable = evaluation.filtered(show=Show.APPLICABLE)
            keys = list(applicable.values_list("pk", flat=True)[: cap - total])
            if keys:
                found.append((village, keys))
                total += len(keys)
        return found


# --- programmes and funds ---------------------------------------------------------------------


def _program(demo: Demo, key: str, fund: Fund | None = None) -> Program:
    template = TEMPLATES[key]
    return program_create(
        actor=demo.admin,
        rates=template.rates,
        funding_split=template.funding_split,
        rule=template.rule,
        fund=fund,
        **template.initial(),
    )


def _funds(demo: Demo) -> dict[str, Fund]:
    county = demo.county.name
    return {
        "care": fund_create(actor=demo.admin, name="生育关怀基金", kind=Fund.Kind.CARE),
        "named": fund_create(
            actor=demo.admin,
            name=f"{county}企业家协会爱心助学冠名基金",
            kind=Fund.Kind.NAMED,
            donor=f"{county}企业家协会",
        ),
        "loan": fund_create(actor=demo.admin, name="幸福工程循环金", kind=Fund.Kind.LOAN),
    }


# --- candidates and the workflow --------------------------------------------------------------


def _fresh(rows: list[Enrollment]) -> list[Enrollment]:
    """The enrolments as the workflow left them (each step re-read and changed its own copy)."""
    return list(
        Enrollment.objects.filter(pk__in=[row.pk for row in rows])
        .select_related("village", "group")
        .order_by("id")
    )


def enrol(
    demo: Demo,
    program: Program,
    village: Association,
    keys: list[int],
    *,
    year: int,
    applied_on: datetime.date,
    stage: str,
) -> list[Enrollment]:
    """Apply for `keys` at the village on `applied_on` and take them through the workflow as
    far as `stage`: applied; in notice (posted two days later for the programme's days);
    reviewed by the township three days after the notice ended; rejected (returned by the
    township instead); enrolled (approved by the county five days after the review)."""
    applier, reviewer = demo.actors.applier(village), demo.actors.reviewer(village)
    result = enrollment_apply_many(
        actor=applier, program=program, node=village, keys=keys, year=year, today=applied_on
    )
    if result.refused:  # the keys were judged eligible a moment ago: a bug, not a demo state
        raise RuntimeError(f"demo application refused: {result.refused}")
    rows = result.applied
    demo.backdating.event(Action.APPLY, applied_on, 9, rows)
    if stage == Status.APPLIED:
        return _fresh(rows)
    notice = notice_publish(
        actor=applier,
        program=program,
        node=village,
        objection_contact=f"{village.name}委会计生专干;{village.parent.name}计生办",
        enrollments=rows,
        starts_on=applied_on + days(2),
    )
    demo.backdating.notices[notice.pk] = at(notice.starts_on, 9)
    demo.backdating.event(Action.NOTICE, notice.starts_on, 9, rows)
    if stage == Status.IN_NOTICE:
        return _fresh(rows)
    review_on = notice.ends_on + days(3)
    if stage == Status.REJECTED:
        for row in rows:
            enrollment_return(actor=reviewer, enrollment=row, reason=RETURN_REASON)
        demo.backdating.event(Action.RETURN, review_on, 15, rows)
        return _fresh(rows)
    for row in rows:
        enrollment_review(actor=reviewer, enrollment=row, opinion=REVIEW_OPINION)
    demo.backdating.event(Action.REVIEW, review_on, 15, rows)
    if stage == Status.REVIEWED:
        return _fresh(rows)
    approve_on = review_on + days(5)
    for row in rows:
        enrollment_approve(
            actor=demo.admin, enrollment=row, enrolled_on=approve_on, opinion=APPROVE_OPINION
        )
    demo.backdating.event(Action.APPROVE, approve_on, 16, rows)
    return _fresh(rows)


def _stage_dates(demo: Demo) -> dict[str, datetime.date]:
    """The day this year's applicants of each stage applied on. The ones enrolled applied in
    spring (or two months back, early in the year); the rest recently enough to stand where
    they do today: a notice of 7 days posted two days after applying is over after 9 days."""
    today = demo.today
    return {
        Status.ENROLLED: min(datetime.date(demo.year, 3, 2), today - days(60)),
        Status.REJECTED: today - days(25),
        Status.REVIEWED: today - days(20),
        Status.IN_NOTICE: today - days(4),
        Status.APPLIED: today - days(1),
    }


def _this_year(demo: Demo, program: Program, key: str) -> list[Enrollment]:
    """This year's applicants of the programme, each at the stage TAIL_STAGES gives it (the
    last ones) or enrolled; the first in notice has an objection raised against it."""
    found = demo.applicable(program, year=demo.year, on=demo.today, cap=NEW_CAP[key])
    people = [(village, pk) for village, keys in found for pk in keys]
    if not people:
        return []
    tail = TAIL_STAGES[key]
    stages = [Status.ENROLLED] * max(len(people) - len(tail), 0) + tail[::-1][-len(people) :]
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    villages = {}
    for (village, pk), stage in zip(people, stages, strict=True):
        groups[(stage, village.pk)].append(pk)
        villages[village.pk] = village
    dates = _stage_dates(demo)
    made = []
    for (stage, village_id), keys in groups.items():
        made += enrol(
            demo,
            program,
            villages[village_id],
            keys,
            year=demo.year,
            applied_on=dates[stage],
            stage=stage,
        )
    return made


def _object(demo: Demo, enrollments: list[Enrollment]) -> int:
    """An objection raised against the first applicant still in notice (left for the township
    to resolve: the review waits for it)."""
    for enrollment in enrollments:
        if enrollment.status == Status.IN_NOTICE:
            raised_by, content = OBJECTION
            objection_record(
                actor=demo.actors.applier(enrollment.village),
                enrollment=enrollment,
                content=content,
                raised_by=raised_by,
                raised_on=demo.today - days(1),
            )
            demo.backdating.event(Action.OBJECTION, demo.today - days(1), 11, [enrollment])
            return 1
    return 0


def _roll(demo: Demo, program: Program, key: str) -> list[Enrollment]:
    """Last year's roll: applied in March, noticed, reviewed and approved in spring."""
    last = demo.year - 1
    applied_on = datetime.date(last, 3, 2)
    made = []
    for village, keys in demo.applicable(program, year=last, on=applied_on, cap=ROLL_CAP[key]):
        made += enrol(
            demo, program, village, keys, year=last, applied_on=applied_on, stage=Status.ENROLLED
        )
    return made


# --- the whole -------------------------------------------------------------------------------


def seed_benefits(
    *, county: Association, admin: User, rng: random.Random, today: datetime.date | None = None
) -> dict | None:
    """The demo's care subsidies (see the module's docstring); returns the counts and the
    seconds taken. A county that already has a programme is left alone (None). Runs inside
    the county's scope, after the people exist."""
    active = current_scope()
    if active is None or active.county_id != county.pk:
        raise RuntimeError("seed_benefits runs inside the county's scope.")
    if Program.objects.filter(county_id=county.pk).exists():
        return None
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = round(now - clock, 2)
        clock = now

    with transaction.atomic():
        demo = Demo(
            county=county,
            actors=Actors.of(county, admin),
            rng=rng,
            today=today or timezone.localdate(),
            villages=list(
                Association.objects.filter(county_id=county.pk, level=Level.VILLAGE)
                .select_related("parent")
                .order_by("division_code")
            ),
        )
        funds = _funds(demo)
        reward = _program(demo, ProgramTemplate.REWARD_ASSISTANCE)
        special = _program(demo, ProgramTemplate.SPECIAL_ASSISTANCE)
        loans = _program(demo, ProgramTemplate.HAPPINESS_PROJECT, fund=funds["loan"])
        lap("programs")
        roll = {
            reward.pk: _roll(demo, reward, ProgramTemplate.REWARD_ASSISTANCE),
            special.pk: _roll(demo, special, ProgramTemplate.SPECIAL_ASSISTANCE),
        }
        lap("last_year_roll")
        new = _this_year(demo, reward, ProgramTemplate.REWARD_ASSISTANCE)
        new_special = _this_year(demo, special, ProgramTemplate.SPECIAL_ASSISTANCE)
        objections = _object(demo, new_special + new)
        lap("this_year")
        money = demo_money.Money(demo)
        accounts = money.accounts(
            [e for rows in (*roll.values(), new, new_special) for e in rows], share=0.85
        )
        lap("accounts")
        money.pay_last_year(reward, special)
        money.pay_this_year(reward, special)
        lap("batches")
        reconfirmation = reconfirmation_run(
            actor=admin, program=reward, year=demo.year, today=demo.today
        )
        lap("reconfirmation")
        money.care_funds(funds["care"], funds["named"])
        money.loans(loans, funds["loan"])
        lap("funds_loans")
        demo.backdating.apply()
        money.backdate()
        lap("backdating")
    statuses = Counter(
        dict(
            Enrollment.objects.filter(county_id=county.pk)
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    )
    return {
        "programs": 3,
        "funds": len(funds),
        "enrollments": dict(statuses),
        "objections": objections,
        "accounts": accounts,
        "batches": DisbursementBatch.objects.filter(county_id=county.pk).count(),
        "lines": money.lines,
        "reconfirmations": reconfirmation.created,
        "loans": Loan.objects.filter(county_id=county.pk).count(),
        "timings": timings,
        "seconds": round(sum(timings.values()), 2),
    }
