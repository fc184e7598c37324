"""The group leader's start page (what a group leader sees after signing in): this month's
duties of their group (activities/duties.py), what is still missing in plain words, two big
buttons to record a home visit or a group activity, and the group's recent records."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.utils import timezone

from associations import permissions
from associations import selectors as association_selectors
from associations.models import Level
from associations.views import StaffView

from . import selectors
from .duties import duties
from .periods import Period, period_key

RECENT_SHOWN = 5


@dataclass(frozen=True)
class DutyLine:
    label: str
    count: int
    required: int
    unit: str
    missing: str  # what is still to do this month, in words; "" when met

    @property
    def met(self) -> bool:
        return self.count >= self.required


def month_duties(group, today) -> list[DutyLine]:
    """The two monthly duties of a group (seed 000): at least one group activity, and at
    least three home visits by its leader."""
    month = Period.month(today.year, today.month)
    result = duties(node=group, period=month).groups[group.pk]
    first = month.start
    held = result.activities[first]
    visits = result.leader_visits[first]
    return [
        DutyLine(
            "本月小组活动",
            held.count,
            held.required,
            "次",
            "" if held.met else f"本月还需开展小组活动 {held.required - held.count} 次",
        ),
        DutyLine(
            "组长本月入户随访",
            visits.count,
            visits.required,
            "户",
            "" if visits.met else f"本月还需入户随访 {visits.required - visits.count} 户",
        ),
    ]


class LeaderStartView(StaffView):
    def get(self, request):
        user = request.user
        if user.node_level != Level.GROUP:
            return redirect("node-detail", pk=user.node_id)
        group = association_selectors.association_get(actor=user, pk=user.node_id)
        today = timezone.localdate()
        lines = month_duties(group, today)
        return render(
            request,
            "activities/start.html",
            {
                "node": group,
                "breadcrumbs": group.lineage(),
                "today": today,
                "period_key": period_key(Period.month(today.year, today.month)),
                "lines": lines,
                "missing": [line.missing for line in lines if line.missing],
                "can_record": permissions.can_record_field_work(user, group),
                "activities": list(selectors.activity_list(actor=user, node=group)[:RECENT_SHOWN]),
                "visits": list(selectors.visit_list(actor=user, node=group)[:RECENT_SHOWN]),
            },
        )
