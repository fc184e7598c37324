"""Background work of the households app. Age-based categories (空巢, 早期发展 0-3, …) change
with the calendar, not only with edits, so they are recomputed every night."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Prefetch
from django.utils import timezone

from associations.tasks import ScopedTask, send_to_every_county

from .models import Household, Person
from .services import refresh_categories

BATCH = 2000


@shared_task(base=ScopedTask, name="households.refresh_categories_in_scope")
def refresh_categories_in_scope() -> dict:
    """Recompute every household's derived categories in the task's scope. Idempotent:
    running it twice gives the same result; only changed households are written."""
    today = timezone.localdate()
    members = Prefetch("members", queryset=Person.objects.order_by("id"))
    changed = total = 0
    last_id = 0
    while True:
        batch = list(
            Household.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .prefetch_related(members)[:BATCH]
        )
        if not batch:
            break
        for household in batch:
            total += 1
            stale = household.categories_refreshed_on != today
            if stale and refresh_categories(household, on=today, members=household.members.all()):
                changed += 1
        last_id = batch[-1].pk
    return {"households": total, "changed": changed}


@shared_task(name="households.refresh_categories_everywhere")
def refresh_categories_everywhere() -> int:
    """Celery beat's nightly entry: one scoped task per county."""
    return send_to_every_county(refresh_categories_in_scope)
