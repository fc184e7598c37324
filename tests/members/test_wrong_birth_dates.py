"""A birth date after today (entered before the services refused it, or by a path that does
not check it) shows no age; it never breaks the lists, the API or the exports it appears in."""

import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from households.categories import age_shown
from households.models import Person


def test_age_shown_is_none_for_unknown_or_future_birth_dates():
    today = datetime.date(2026, 11, 30)
    assert age_shown(datetime.date(1990, 12, 1), today) == 35
    assert age_shown(datetime.date(1990, 11, 30), today) == 36
    assert age_shown(today, today) == 0
    assert age_shown(today + datetime.timedelta(days=1), today) is None
    assert age_shown(None, today) is None


def test_a_future_birth_date_breaks_no_list_api_or_export(client, world):
    a = world.a
    member = a.members[0]
    with a.scope():
        Person.objects.filter(pk=member.person_id).update(
            birth_date=timezone.localdate() + datetime.timedelta(days=40)
        )
    secretary = a.users["village_secretary"]
    client.force_login(secretary)
    for name, kwargs in (
        ("member-list", None),
        ("member-detail", {"pk": member.pk}),
        ("person-list", None),
        ("person-detail", {"pk": member.person_id}),
    ):
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200, name
    for name in ("person-export-csv", "person-export-xlsx"):
        assert client.get(reverse(name)).status_code == 200, name
    api = APIClient()
    api.force_authenticate(secretary)
    rows = api.get(reverse("api-member-list")).json()["results"]
    assert {row["id"]: row["age"] for row in rows}[member.pk] is None
    detail = api.get(reverse("api-member-detail", kwargs={"pk": member.pk}))
    assert detail.status_code == 200 and detail.json()["age"] is None
