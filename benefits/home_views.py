"""The care-subsidies home page (关爱扶助): the county's programmes with how many of the
actor's subtree are at each step of the workflow, counted in one grouped query."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import render

from associations.views import StaffView

from . import permissions, selectors
from .models import Enrollment, EnrollmentStatus


def status_counts() -> dict[int, dict[str, int]]:
    """{program id: {status: count}} over the enrolments the active scope (the user's) sees."""
    counts: dict[int, dict[str, int]] = {}
    rows = Enrollment.objects.values("program_id", "status").annotate(n=Count("id"))
    for row in rows:
        counts.setdefault(row["program_id"], {})[row["status"]] = row["n"]
    return counts


class BenefitsHomeView(StaffView):
    def get(self, request):
        programs = selectors.program_list(actor=request.user)
        counts = status_counts()
        statuses = list(EnrollmentStatus)
        rows = [
            (program, [counts.get(program.pk, {}).get(status.value, 0) for status in statuses])
            for program in programs
        ]
        return render(
            request,
            "benefits/home.html",
            {
                "rows": rows,
                "statuses": statuses,
                "can_configure": permissions.can_configure(request.user),
            },
        )
