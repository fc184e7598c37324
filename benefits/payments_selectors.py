"""Scoped reads of payments: bank accounts, batches and their lines, and the totals by village,
township and county. Lines sit at the beneficiary's village (and group) and are read through
the actor's own scope: another county's or a sibling subtree's line is a 404.

Batches sit at the node they cover. An account reads the batches of its subtree and also those
that cover its node from above (a county batch, its township's): the village secretary who
hands out the money of a county batch prints the receipt sheet of the village from it. Of
such a batch the account sees only its own subtree's lines, counts and sums (the lines come
through its scope; the figures are filtered by its node); a batch of a sibling subtree or of
another county stays a 404. Acting on a batch is the county administrators' (permissions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from associations.models import ANCESTOR_FIELDS, Association, Level
from associations.scope import activate

from .models import (
    LIVE_ENROLLMENT,
    LIVE_LINE,
    BankAccount,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    LineStatus,
    Program,
)
from .payments_filters import BankAccountFilter, DisbursementBatchFilter, DisbursementFilter
from .selectors import county_scope

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _sum(condition: Q | None = None):
    return Coalesce(Sum("amount", filter=condition), Value(ZERO), output_field=MONEY)


# --- bank accounts ------------------------------------------------------------------------------


def account_list(*, actor, filters: dict | None = None) -> QuerySet[BankAccount]:
    accounts = BankAccount.objects.select_related("person", "village", "group").order_by(
        "village_id", "person_id", "-is_active", "-id"
    )
    if filters is not None:
        accounts = BankAccountFilter(filters, queryset=accounts).qs
    return accounts


def account_get(*, actor, pk) -> BankAccount:
    return get_object_or_404(
        BankAccount.objects.select_related("person", "person__household", "village", "group"),
        pk=pk,
    )


def person_accounts(*, actor, person) -> list[BankAccount]:
    return list(account_list(actor=actor).filter(person=person))


def person_enrollments(*, actor, person) -> list[Enrollment]:
    """The live enrolments paid to or for this person: the person's own, and those of the
    person's household (a household programme, or a member's benefit paid to this card)."""
    mine = Q(person=person)
    if person.household_id:
        mine |= Q(household_id=person.household_id)
    return list(
        Enrollment.objects.filter(mine, status__in=LIVE_ENROLLMENT)
        .select_related(
            "program", "person", "bank_account", "bank_account__person", "village", "group"
        )
        .order_by("program_id", "id")
    )


def enrollment_get(*, actor, pk) -> Enrollment:
    return get_object_or_404(
        Enrollment.objects.select_related(
            "program", "person", "household", "bank_account", "village", "group"
        ),
        pk=pk,
    )


# --- batches and lines ----------------------------------------------------------------------------


def _readable_batches(actor) -> Q:
    """The batches placed in the actor's subtree, or at one of its node's ancestors."""
    level = actor.node_level
    readable = Q(**{f"{level}_id": actor.node_id})
    if level == Level.COUNTY:
        return readable
    with activate(county_scope(actor.county_id)):
        node = Association.objects.values(*(f"{f}_id" for f in ANCESTOR_FIELDS)).get(
            pk=actor.node_id
        )
    for above, below in pairwise(ANCESTOR_FIELDS):
        if above == level:
            break
        if node[f"{above}_id"] is not None:  # placed at that ancestor: nothing below it set
            readable |= Q(**{f"{above}_id": node[f"{above}_id"], f"{below}_id__isnull": True})
    return readable


def _batches(actor) -> QuerySet[DisbursementBatch]:
    """The batches the actor reads (read under the county's scope: a batch above the actor's
    node is outside the actor's own), each with `place_name`, the node it covers."""
    with activate(county_scope(actor.county_id)):
        return DisbursementBatch.objects.filter(_readable_batches(actor)).annotate(
            place_name=Coalesce("group__name", "village__name", "township__name", "county__name")
        )


def covers_more_than(batch: DisbursementBatch, actor) -> bool:
    """Whether the batch covers more than the actor's subtree (it was made above the node)."""
    return getattr(batch, f"{actor.node_level}_id") != actor.node_id


def batch_list(*, actor, filters: dict | None = None) -> QuerySet[DisbursementBatch]:
    """Batches with each one's live lines counted and summed (one grouped query): of the
    actor's subtree only, also for a batch that covers more."""
    live = Q(lines__status__in=LIVE_LINE) & Q(**{f"lines__{actor.node_level}_id": actor.node_id})
    batches = (
        _batches(actor)
        .select_related("program", "created_by")
        .annotate(
            line_count=Count("lines", filter=live),
            total_amount=Coalesce(
                Sum("lines__amount", filter=live), Value(ZERO), output_field=MONEY
            ),
        )
        .order_by("-created_at", "-id")
    )
    if filters is not None:
        batches = DisbursementBatchFilter(filters, queryset=batches).qs
    return batches


def batch_get(*, actor, pk) -> DisbursementBatch:
    return get_object_or_404(
        _batches(actor).select_related("program", "program__fund", "created_by", "confirmed_by"),
        pk=pk,
    )


@dataclass
class StatusTally:
    status: str
    label: str
    count: int = 0
    amount: Decimal = ZERO


def batch_tallies(*, actor, batch: DisbursementBatch) -> list[StatusTally]:
    """How many of the batch's lines (that the actor sees) are at each status, and their
    amounts: one grouped query."""
    rows = {
        row["status"]: row
        for row in Disbursement.objects.filter(batch=batch)
        .values("status")
        .annotate(count=Count("id"), amount=_sum())
        .order_by()
    }
    return [
        StatusTally(
            status.value,
            status.label,
            rows.get(status.value, {}).get("count", 0),
            rows.get(status.value, {}).get("amount", ZERO),
        )
        for status in LineStatus
    ]


def line_list(*, actor, filters: dict | None = None) -> QuerySet[Disbursement]:
    lines = Disbursement.objects.select_related(
        "person", "household", "household__head", "bank_account", "village", "group", "program"
    ).order_by("village_id", "id")
    if filters is not None:
        lines = DisbursementFilter(filters, queryset=lines).qs
    return lines


def line_get(*, actor, pk) -> Disbursement:
    return get_object_or_404(
        Disbursement.objects.select_related(
            "batch", "program", "person", "household", "bank_account", "village", "group"
        ),
        pk=pk,
    )


# --- totals ---------------------------------------------------------------------------------------


@dataclass
class TotalRow:
    node_id: int | None
    name: str
    due_count: int = 0  # live lines: confirmed or paid
    due_amount: Decimal = ZERO
    paid_count: int = 0
    paid_amount: Decimal = ZERO
    villages: list[TotalRow] = field(default_factory=list)  # a township's

    def add(self, other: TotalRow) -> None:
        self.due_count += other.due_count
        self.due_amount += other.due_amount
        self.paid_count += other.paid_count
        self.paid_amount += other.paid_amount


@dataclass
class Totals:
    program: Program
    period: str
    node: Association | None
    townships: list[TotalRow]  # each with its villages; one township of no name below it
    total: TotalRow
    show_townships: bool


def payment_totals(*, actor, program: Program, period: str, node: Association | None = None):
    """The programme's live lines of the period in the actor's scope (under `node` when
    given), by village, township and in all: one grouped query for the figures, one for the
    names of the places."""
    lines = Disbursement.objects.filter(program=program, period=period, status__in=LIVE_LINE)
    if node is not None:
        lines = lines.filter(**{f"{node.level}_id": node.pk})
    paid = Q(status=LineStatus.PAID)
    rows = list(
        lines.values("township_id", "village_id")
        .annotate(
            due_count=Count("id"),
            due_amount=_sum(),
            paid_count=Count("id", filter=paid),
            paid_amount=_sum(paid),
        )
        .order_by()
    )
    ids = {r["village_id"] for r in rows} | {r["township_id"] for r in rows}
    places = Association.objects.filter(pk__in=[i for i in ids if i])
    names, codes = {}, {}
    for pk, name, code in places.values_list("pk", "name", "division_code"):
        names[pk], codes[pk] = name, code
    townships: dict[int | None, TotalRow] = {}
    for row in rows:
        figures = {k: row[k] for k in ("due_count", "due_amount", "paid_count", "paid_amount")}
        village = TotalRow(row["village_id"], names.get(row["village_id"], ""), **figures)
        township_id = row["township_id"] if row["township_id"] in names else None
        township = townships.setdefault(
            township_id, TotalRow(township_id, names.get(township_id, ""))
        )
        township.villages.append(village)
        township.add(village)
    for township in townships.values():
        township.villages.sort(key=lambda v: codes.get(v.node_id, ""))
    ordered = sorted(townships.values(), key=lambda t: codes.get(t.node_id, ""))
    scope_node = node or Association.objects.filter(pk=actor.node_id).first()
    total = TotalRow(scope_node.pk if scope_node else None, scope_node.name if scope_node else "")
    for township in ordered:
        total.add(township)
    level = (node.level if node else actor.node_level) or Level.COUNTY
    return Totals(
        program=program,
        period=period,
        node=scope_node,
        townships=ordered,
        total=total,
        show_townships=level == Level.COUNTY,
    )
