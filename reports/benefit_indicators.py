"""The care-subsidy indicators (benefits/): registered with the indicator registry like the
others (reports.indicators), each one set-based query over the county.

- benefit_paid_on_time: of the payment lines of batches confirmed in the period, the share
  paid in full by the period's end;
- benefit_notice_share: of the beneficiaries enrolled in the period under a programme that
  requires a public notice, the share whose application went through one.

A village with nothing to count has nothing late or unnoticed: 100, as the hardship indicator
does. The hardship indicator (reports.indicators.hardship_assisted_share) also counts a care
subsidy paid to the household in the period as help."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q

from associations.models import Association
from associations.periods import Period
from benefits.models import Disbursement, Enrollment, LineStatus

from .indicators import Values, percent, register, village_ids

ALL_DONE = Decimal("100.00")
# Lines that were owed once their batch was confirmed: paid, still waiting, or failed.
OWED = [LineStatus.CONFIRMED, LineStatus.PAID, LineStatus.FAILED]


def _shares(county: Association, counts: dict[int, tuple[int, int]]) -> Values:
    result = {}
    for village_id in village_ids(county):
        done, total = counts.get(village_id, (0, 0))
        result[village_id] = percent(done, total) if total else ALL_DONE
    return result


@register(
    key="benefit_paid_on_time",
    name="扶助金按时足额发放率",
    unit="%",
    definition="统计期内确认的发放批次中,到统计期末已足额发放到人的人数所占百分比;"
    "本期没有发放任务的村记为100。",
)
def benefit_paid_on_time(county: Association, period: Period) -> Values:
    """Lines (confirmed, paid or failed: owed once their batch was confirmed) of the village's
    beneficiaries in batches confirmed within the period; on time = paid, with a payment date
    no later than the period's end. One query."""
    rows = (
        Disbursement.objects.filter(
            county_id=county.pk,
            status__in=OWED,
            batch__confirmed_at__date__range=(period.start, period.end),
        )
        .values("village_id")
        .annotate(
            total=Count("id"),
            paid_n=Count("id", filter=Q(status=LineStatus.PAID, paid_on__lte=period.end)),
        )
        .order_by()
    )
    return _shares(county, {row["village_id"]: (row["paid_n"], row["total"]) for row in rows})


@register(
    key="benefit_notice_share",
    name="扶助对象公示率",
    unit="%",
    definition="统计期内审批在册的扶助对象中(限须公示的项目),经过公示的人数所占百分比;"
    "本期没有新增在册对象的村记为100。",
)
def benefit_notice_share(county: Association, period: Period) -> Values:
    """Enrolments of the village whose ``enrolled_on`` falls in the period, under a programme
    that requires a public notice; noticed = linked to a notice that ended before the day of
    enrolment. One query."""
    rows = (
        Enrollment.objects.filter(
            county_id=county.pk,
            enrolled_on__range=(period.start, period.end),
            program__needs_notice=True,
        )
        .values("village_id")
        .annotate(
            total=Count("id"),
            noticed=Count(
                "id",
                filter=Q(notice__isnull=False, notice__ends_on__lt=F("enrolled_on")),
            ),
        )
        .order_by()
    )
    return _shares(county, {row["village_id"]: (row["noticed"], row["total"]) for row in rows})
