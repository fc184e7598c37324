"""Photos and documents of activities: who may attach (whoever records the activity: a group
leader in their own group, never a county viewer), the pages' routes, deleting an activity
takes its files, and the API lists each activity's attachments with scoped download URLs."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from activities import services
from activities.models import Activity, ActivityAttachment
from associations.attachments import storage
from associations.models import ChangeRecord
from associations.scope import Scope, activate
from tests import attachment_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def group_activity(a, group_index=0) -> Activity:
    with activate(Scope.for_node(a.county)):
        return services.activity_create(
            actor=a.users["county_admin"],
            association=a.groups[group_index],
            kind="publicity",
            date=datetime.date(2024, 5, 29),
            title="5.29 会员活动日宣传",
        )


def attach(a, activity, user="group_leader", name="现场.jpg", content=None):
    actor = a.users[user]
    with activate(Scope.for_node(actor.node)):
        return services.activity_attachment_add(
            actor=actor,
            activity=activity,
            upload=samples.upload(name, content or samples.jpeg_with_location()),
        )


def test_a_group_leader_attaches_to_their_groups_activity(world):
    a = world.a
    activity = group_activity(a)
    attachment = attach(a, activity)
    assert (attachment.activity_id, attachment.group_id) == (activity.pk, a.groups[0].pk)
    assert attachment.content_type == "image/jpeg"


@pytest.mark.parametrize("user", ["county_viewer", "group_leader_sibling"])
def test_readers_and_other_groups_cannot_attach(world, user):
    a = world.a
    activity = group_activity(a)
    if user == "group_leader_sibling":  # the sibling group's leader does not even see it
        with activate(Scope.for_node(a.users[user].node)):
            assert not Activity.objects.filter(pk=activity.pk).exists()
    with pytest.raises(PermissionDenied):
        attach(a, activity, user=user)


def test_a_county_viewer_gets_403_from_the_upload_page(world, client):
    a = world.a
    activity = group_activity(a)
    client.force_login(a.users["county_viewer"])
    url = reverse("activity-attachment-upload", kwargs={"pk": activity.pk})
    response = client.post(url, {"file": samples.upload("a.png", samples.png())})
    assert response.status_code == 403
    with activate(Scope.for_node(a.county)):
        assert not ActivityAttachment.objects.filter(activity=activity).exists()


def test_upload_page_stores_and_returns_to_next(world, client):
    a = world.a
    activity = group_activity(a)
    client.force_login(a.users["group_leader"])
    url = reverse("activity-attachment-upload", kwargs={"pk": activity.pk})
    response = client.post(
        url, {"file": samples.upload("签到表.xlsx", samples.xlsx()), "next": "/somewhere/"}
    )
    assert (response.status_code, response["Location"]) == (302, "/somewhere/")
    response = client.post(
        url, {"file": samples.upload("x.png", samples.png()), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("activity-detail", kwargs={"pk": activity.pk})
    with activate(Scope.for_node(a.county)):
        names = sorted(ActivityAttachment.objects.filter(activity=activity).values_list("name"))
    assert names == [("x.png",), ("签到表.xlsx",)]


def test_the_thumbnail_route_sends_a_small_jpeg(world, client):
    a = world.a
    attachment = attach(a, group_activity(a), content=samples.png(size=(1200, 900)))
    client.force_login(a.users["village_secretary"])
    response = client.get(reverse("activity-attachment-thumb", kwargs={"pk": attachment.pk}))
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as thumb:
        assert max(thumb.size) == 320


def test_a_sibling_villages_attachment_is_404_on_every_route(world, client):
    a = world.a
    attachment = attach(a, group_activity(a, group_index=2), user="county_admin")  # village 1
    client.force_login(a.users["village_secretary"])  # village 0
    for name in ("activity-attachment", "activity-attachment-thumb"):
        assert client.get(reverse(name, kwargs={"pk": attachment.pk})).status_code == 404
    delete = reverse("activity-attachment-delete", kwargs={"pk": attachment.pk})
    assert client.post(delete).status_code == 404
    with activate(Scope.for_node(a.county)):
        assert ActivityAttachment.objects.filter(pk=attachment.pk).exists()


def test_deleting_an_activity_deletes_its_attachments_and_files(
    world, django_capture_on_commit_callbacks
):
    a = world.a
    activity = group_activity(a)
    attachment = attach(a, activity)
    paths = [storage.resolve(attachment.file), storage.resolve(attachment.thumbnail)]
    assert all(p.exists() for p in paths)
    leader = a.users["group_leader"]
    with activate(Scope.for_node(leader.node)), django_capture_on_commit_callbacks(execute=True):
        services.activity_delete(actor=leader, activity=activity)
    assert not any(p.exists() for p in paths)
    with activate(Scope.for_node(a.county)):
        assert not ActivityAttachment.objects.filter(pk=attachment.pk).exists()
        assert ChangeRecord.objects.filter(
            object_type="activities.ActivityAttachment", object_id=attachment.pk, action="delete"
        ).exists()


def test_the_delete_page_removes_the_attachment(world, client, django_capture_on_commit_callbacks):
    a = world.a
    attachment = attach(a, group_activity(a))
    path = storage.resolve(attachment.file)
    client.force_login(a.users["county_viewer"])
    delete = reverse("activity-attachment-delete", kwargs={"pk": attachment.pk})
    assert client.post(delete).status_code == 403
    client.force_login(a.users["group_leader"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete, follow=True)
    assert "已删除附件“现场.jpg”" in response.content.decode()
    assert not path.exists()


# --- API ----------------------------------------------------------------------------------------


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_lists_attachments_with_scoped_urls(world):
    a = world.a
    activity = group_activity(a)
    photo = attach(a, activity)
    minutes = attach(a, activity, name="纪要.pdf", content=samples.PDF)
    client = api_as(a.users["village_secretary"])
    detail = client.get(reverse("api-activity-detail", kwargs={"pk": activity.pk})).json()
    listed = {row["id"]: row for row in detail["attachments"]}
    assert set(listed) == {photo.pk, minutes.pk}
    row = listed[photo.pk]
    assert row["url"] == f"/api/v1/activity-attachments/{photo.pk}/download/"
    assert row["thumbnail_url"] == f"/api/v1/activity-attachments/{photo.pk}/thumbnail/"
    assert row["page_url"] == f"/attachments/activity/{photo.pk}/"
    assert (row["name"], row["content_type"], row["kind"]) == ("现场.jpg", "image/jpeg", "image")
    assert row["size"] == photo.size
    assert listed[minutes.pk]["thumbnail_url"] is None
    page = client.get(reverse("api-activity-list"), {"page_size": 100}).json()
    in_list = next(r for r in page["results"] if r["id"] == activity.pk)
    assert {r["id"] for r in in_list["attachments"]} == {photo.pk, minutes.pk}
    download = client.get(row["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert b"".join(download.streaming_content) == storage.resolve(photo.file).read_bytes()


def test_the_api_download_is_404_out_of_scope(world):
    a = world.a
    photo = attach(a, group_activity(a, group_index=2), user="county_admin")  # village 1
    client = api_as(a.users["village_secretary"])  # village 0
    for name in ("detail", "download", "thumbnail"):
        url = reverse(f"api-activity-attachment-{name}", kwargs={"pk": photo.pk})
        assert client.get(url).status_code == 404, name
    other = api_as(world.b.users["county_admin"])
    url = reverse("api-activity-attachment-download", kwargs={"pk": photo.pk})
    assert other.get(url).status_code == 404


def test_the_api_upload(world):
    a = world.a
    activity = group_activity(a)
    url = reverse("api-activity-attachments", kwargs={"pk": activity.pk})
    leader = api_as(a.users["group_leader"])
    response = leader.post(url, {"file": samples.upload("现场.png", samples.png())})
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    again = leader.post(url, {"file": samples.upload("again.png", samples.png())})
    assert (again.status_code, again.json()["id"]) == (200, response.json()["id"])
    refused = leader.post(url, {"file": samples.upload("x.svg", samples.SVG_WITH_SCRIPT)})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["file"][0]["code"] == "attachment_type"
    viewer = api_as(a.users["county_viewer"])
    assert viewer.post(url, {"file": samples.upload("v.pdf", samples.PDF)}).status_code == 403
    delete = reverse("api-activity-attachment-detail", kwargs={"pk": response.json()["id"]})
    assert viewer.delete(delete).status_code == 403
    assert leader.delete(delete).status_code == 204


def test_the_api_upload_over_the_cap_is_a_400(world, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    a = world.a
    activity = group_activity(a)
    url = reverse("api-activity-attachments", kwargs={"pk": activity.pk})
    big = samples.upload("big.pdf", samples.PDF + b"%" * 300_000)
    response = api_as(a.users["group_leader"]).post(url, {"file": big})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"][0]["code"] == "attachment_too_large"
    big = samples.upload("big.pdf", samples.PDF + b"%" * 300_000)
    assert api_as(a.users["county_viewer"]).post(url, {"file": big}).status_code == 403


def test_the_api_upload_checks_csrf_for_a_session(world):
    a = world.a
    activity = group_activity(a)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(a.users["group_leader"])
    url = reverse("api-activity-attachments", kwargs={"pk": activity.pk})
    response = client.post(url, {"file": samples.upload("a.pdf", samples.PDF)})
    assert response.status_code == 403


def test_the_activity_page_shows_its_attachments_with_an_upload_form(client, world):
    a = world.a
    activity = group_activity(a)
    client.force_login(a.users["group_leader"])
    client.post(
        reverse("activity-attachment-upload", kwargs={"pk": activity.pk}),
        {"file": samples.upload("合影.png", samples.png())},
    )
    page = client.get(reverse("activity-detail", kwargs={"pk": activity.pk}))
    text = page.content.decode()
    assert "活动照片与资料" in text
    assert "合影.png" in text
    assert reverse("activity-attachment-upload", kwargs={"pk": activity.pk}) in text
