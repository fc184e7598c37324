"""Reads of full ID numbers and phones: recording them (one row per request, whatever the
number of persons shown), the hourly limit on lookups by a full number, and the lookup itself.

What is recorded: every display of a FULL ID number or phone (a detail page, an edit form,
the API's detail record, a lookup, an export with full numbers) and every lookup by a full
number (found or not: a lookup that finds nobody still tells something). Imports count as
one bulk lookup per file check (see `record_import_lookup`)."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from associations.models import ROLE_LEVEL, Level

from . import identity, masking
from .models import IdentityRead, Person

Reason = IdentityRead.Reason
# Reads that count towards a user's hourly limit: the ones that ask "who has this number?".
LIMITED_REASONS = (Reason.LOOKUP, Reason.IMPORT)
LOOKUP_LIMIT_CODE = "lookup_limit"


class LookupLimitReached(Exception):
    """The user has used the hour's lookups by full number."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(lookup_limit_message(limit))


def lookup_limit_message(limit: int) -> str:
    return (
        f"按完整身份证号码或电话查询每人每小时最多 {limit} 次,您已达到上限,请稍后再试。"
        "查询记录由县级管理员查看。"
    )


def lookups_per_hour() -> int:
    return int(getattr(settings, "IDENTITY_LOOKUPS_PER_HOUR", 60))


def lookups_in_last_hour(user) -> int:
    """A count over the read log: the same answer in every web process and worker."""
    since = timezone.now() - datetime.timedelta(hours=1)
    return IdentityRead.objects.filter(
        reader=user, reason__in=LIMITED_REASONS, read_at__gte=since
    ).count()


def check_lookup_limit(user) -> None:
    limit = lookups_per_hour()
    if lookups_in_last_hour(user) >= limit:
        raise LookupLimitReached(limit)


def _client_ip(request) -> str | None:
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    return address


def _route(request) -> str:
    match = getattr(request, "resolver_match", None) if request is not None else None
    return (match.view_name or "")[:100] if match else ""


def record_read(
    *,
    actor,
    persons: Iterable[Person | int],
    fields: Iterable[str],
    reason: str,
    request=None,
    route: str = "",
) -> IdentityRead | None:
    """One row (one INSERT) for one request's display of full values. Nothing is recorded for
    an empty display (no person, or no field with a value), except a lookup, which is always
    recorded (it counts towards the limit even when it finds nobody)."""
    ids = sorted({p if isinstance(p, int) else p.pk for p in persons})
    fields = sorted(set(fields))
    if not ids and reason not in LIMITED_REASONS:
        return None
    if not fields and reason not in LIMITED_REASONS:
        return None
    read = IdentityRead(
        reader=actor,
        reader_label=actor.get_username()[:150],
        person_id=ids[0] if len(ids) == 1 else None,
        person_ids=ids,
        person_count=len(ids),
        fields=fields,
        reason=reason,
        route=route or _route(request),
        ip=_client_ip(request),
    )
    # At the reader's node (the county's administrators see the county's rows; the reader's
    # own scope finds their rows, for the hourly count), without reading the node.
    read.county_id = actor.county_id
    level = ROLE_LEVEL.get(actor.role)
    if level is not None and level != Level.COUNTY:
        setattr(read, f"{level}_id", actor.node_id)
    read.save()
    return read


def record_detail_read(
    *, actor, request, persons, reason: str, fields=("id_number", "phone"), extra=()
):
    """A detail page or API record: records the persons whose `fields` it showed in full
    (`extra`: fields shown besides the persons', e.g. the household's phone)."""
    if not masking.shows_full(actor, detail=True):
        return None
    persons = list(persons)
    shown = [p for p in persons if any(getattr(p, name, None) for name in fields)]
    names = {name for p in shown for name in fields if getattr(p, name, None)} | set(extra)
    if not shown and extra:
        shown = persons
    return record_read(actor=actor, persons=shown, fields=names, reason=reason, request=request)


# --- the lookup ------------------------------------------------------------------------------

NOT_A_NUMBER = "请输入完整的 18 位身份证号码(或 15 位旧号码)或完整的手机号码、带区号的固定电话。"


def parse_lookup(text: str) -> tuple[str, str]:
    """("id_number" | "phone", the stored form) for a full number; ValidationError otherwise."""
    kind = identity.full_identifier_in(text)
    if kind == "id_number":
        number = identity.normalize_id_number(text)
        if len(number) == 15:  # stored numbers are always 18 digits: upgraded on entry
            with contextlib.suppress(ValidationError):
                number = identity.parse_id_number(number).number
        return kind, number
    if kind == "phone":
        return kind, identity.normalize_phone(text)
    raise ValidationError(NOT_A_NUMBER, code="lookup_number")


LOOKUP_SHOWN = 20


def person_lookup(*, actor, text: str, request=None) -> list[Person]:
    """The persons (in the actor's scope) with this full ID number or phone. Refuses roles
    that may not look up (PermissionDenied by the caller), enforces the hourly limit
    (LookupLimitReached), and records the lookup whatever it finds."""
    kind, value = parse_lookup(text)
    check_lookup_limit(actor)
    found = list(
        Person.objects.select_related("household", "village", "group")
        .filter(Q(**{kind: value}))
        .order_by("village_id", "household_id", "id")[:LOOKUP_SHOWN]
    )
    record_read(
        actor=actor,
        persons=found,
        fields=["id_number", "phone"] if found else [kind],
        reason=Reason.LOOKUP,
        request=request,
    )
    return found


def record_import_lookup(*, actor, person_ids: Iterable[int], route: str) -> None:
    """An import's check of its ID numbers against the county: one recorded bulk lookup per
    check of a file, holding the persons it matched, and counting once towards the hourly
    limit (the check only says "registered elsewhere in the county" of persons out of the
    actor's reach, see households.import_people)."""
    record_read(
        actor=actor,
        persons=list(person_ids),
        fields=["id_number"],
        reason=Reason.IMPORT,
        route=route,
    )


# --- the log ---------------------------------------------------------------------------------


def identity_read_list(*, actor, reader: str = "", person: str = "", day=None):
    reads = IdentityRead.objects.select_related("reader", "person").order_by("-read_at", "-id")
    if reader:
        reads = reads.filter(reader_label=reader.strip())
    if person:
        ids = list(Person.objects.filter(name=person.strip()).values_list("pk", flat=True)[:500])
        reads = reads.filter(person_ids__overlap=ids) if ids else reads.none()
    if day is not None:
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        reads = reads.filter(read_at__gte=start, read_at__lt=start + datetime.timedelta(days=1))
    return reads
