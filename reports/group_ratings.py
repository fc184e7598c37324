"""Group ratings (五好小组 / 五有小组): township staff (and the county admin) rate each member
group of a village for an assessment period against the five 五好 and five 五有 criteria;
village staff read their groups' ratings. A group is 五好小组 when all five 五好 criteria are
met, 五有小组 when all five 五有 are.

The page of a village and period shows, beside the ticks, the facts that support 活动开展好
and 信息掌握好: the months of the period in which the group held an activity and the home
visits its leader made (activities.duties, read for the whole village in two queries).
A rating not saved yet is prefilled from the group's latest rating of an earlier period.
A locked period refuses changes; every created or changed rating leaves a change record."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from activities import duties
from associations import period_locks
from associations import permissions as association_permissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, Level, Role
from associations.periods import Period

from .models import FIVE_GOOD_CRITERIA, FIVE_HAVE_CRITERIA, AssessmentPeriod, GroupRating

CRITERIA = FIVE_GOOD_CRITERIA + FIVE_HAVE_CRITERIA
KEYS = [key for key, _ in CRITERIA]
RATING_FIELDS = ["period", "node", *KEYS, "note"]
NOTE_MAX = 300


def can_rate(user, village: Association) -> bool:
    """The township staff of the village's township, or the county admin of its county."""
    if user.role == Role.TOWNSHIP_STAFF:
        return user.node_id == village.township_id
    return user.role == Role.COUNTY_ADMIN and user.node_id == village.county_id


def groups_of(village: Association) -> list[Association]:
    return list(
        Association.objects.filter(parent=village, level=Level.GROUP).order_by(
            "division_code", "id"
        )
    )


def _values(rating: GroupRating | None) -> dict:
    if rating is None:
        return {**{key: False for key in KEYS}, "note": ""}
    return {**{key: getattr(rating, key) for key in KEYS}, "note": rating.note}


def facts(village: Association, period: AssessmentPeriod) -> dict[int, dict]:
    """{group id: {"activity_months", "months", "visits"}} for the village's groups: two
    queries for the whole village, whatever its number of groups."""
    span = Period(period.start_on, period.end_on)
    activities = duties.group_activity_counts(node=village, period=span)
    visits = duties.leader_visit_counts(node=village, period=span)
    months = len(span.months())
    result = {}
    for group_id in set(activities) | set(visits):
        result[group_id] = {
            "activity_months": sum(1 for n in activities.get(group_id, {}).values() if n),
            "months": months,
            "visits": sum(visits.get(group_id, {}).values()),
        }
    return result


def rating_rows(village: Association, period: AssessmentPeriod) -> list[dict]:
    """One row per group of the village: the group, its saved rating (or None), the values
    the form shows (saved, else the latest earlier rating, else nothing ticked), where they
    come from, the supporting facts and the 五好 / 五有 marks of the values."""
    groups = groups_of(village)
    saved = {r.node_id: r for r in GroupRating.objects.filter(period=period, node__in=groups)}
    earlier = {}
    for rating in (
        GroupRating.objects.filter(node__in=groups, period__end_on__lt=period.start_on)
        .select_related("period")
        .order_by("node_id", "-period__end_on")
    ):
        earlier.setdefault(rating.node_id, rating)
    supporting = facts(village, period)
    months = len(Period(period.start_on, period.end_on).months())
    rows = []
    for group in groups:
        rating = saved.get(group.pk)
        source = rating or earlier.get(group.pk)
        values = _values(source)
        rows.append(
            {
                "group": group,
                "rating": rating,
                "prefilled_from": None if rating else getattr(source, "period", None),
                "values": values,
                "five_good": all(values[key] for key, _ in FIVE_GOOD_CRITERIA),
                "five_have": all(values[key] for key, _ in FIVE_HAVE_CRITERIA),
                "facts": supporting.get(
                    group.pk, {"activity_months": 0, "months": months, "visits": 0}
                ),
            }
        )
    return rows


def _refuse_locked(period: AssessmentPeriod) -> None:
    if period.is_locked:
        raise ValidationError(period_locks.message(str(period)), code="period_locked")


@transaction.atomic
def ratings_save(
    *, actor, village: Association, period: AssessmentPeriod, ratings: dict[int, dict]
) -> int:
    """Save the ratings of the village's groups for the period in one go: `ratings` is
    {group id: {criterion key: bool, "note": str}}; a group not named keeps what it has.
    Returns how many ratings were created or changed."""
    if village.level != Level.VILLAGE:
        raise ValidationError("小组评定按村(社区)进行。", code="not_village")
    association_permissions.require(
        can_rate(actor, village), "只有本乡镇(街道)专干或县级管理员可以评定会员小组。"
    )
    period = AssessmentPeriod.county_wide.select_for_update().get(pk=period.pk)
    _refuse_locked(period)
    groups = {g.pk: g for g in groups_of(village)}
    for group_id, values in ratings.items():
        if group_id not in groups:
            raise ValidationError("只能评定本村(社区)的会员小组。", code="not_group")
        if len(values.get("note", "") or "") > NOTE_MAX:
            raise ValidationError(
                f"{groups[group_id].name}的备注不能超过 {NOTE_MAX} 字。", code="note_too_long"
            )
    existing = {
        r.node_id: r
        for r in GroupRating.objects.select_for_update().filter(
            period=period, node_id__in=list(ratings)
        )
    }
    changed = 0
    for group_id, values in ratings.items():
        group = groups[group_id]
        rating = existing.get(group_id)
        before = snapshot(rating, RATING_FIELDS) if rating else None
        if rating is None:
            rating = GroupRating(period=period, node=group)
            rating.place_under(group)
        for key in KEYS:
            setattr(rating, key, bool(values.get(key)))
        rating.note = (values.get("note") or "").strip()
        after = snapshot(rating, RATING_FIELDS)
        if before is not None and before == after:
            continue
        rating.rated_by = actor
        rating.save()
        record_change(
            actor=actor,
            node=group,
            obj=rating,
            action=ChangeRecord.Action.UPDATE if before else ChangeRecord.Action.CREATE,
            before=before,
            after=after,
        )
        changed += 1
    return changed


def snapshot_ratings(county_id: int, period_key: str) -> dict[int, dict]:
    """{group id: {criterion key: bool, "five_good", "five_have"}} of the county's ratings for
    the period of that key (one query): what a report run copies into its snapshot. A run
    of a period never opened has no ratings."""
    rows = GroupRating.objects.filter(county_id=county_id, period__key=period_key).values(
        "node_id", *KEYS
    )
    result = {}
    for row in rows:
        values = {key: row[key] for key in KEYS}
        values["five_good"] = all(values[key] for key, _ in FIVE_GOOD_CRITERIA)
        values["five_have"] = all(values[key] for key, _ in FIVE_HAVE_CRITERIA)
        result[row["node_id"]] = values
    return result
