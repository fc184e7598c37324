"""A household's archive of photos and documents: who may attach (whoever may edit the
household), the card on the household page, 404 outside the scope, and the attachments
follow the household when it moves to another village."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from associations.scope import Scope, activate
from households import services
from households.models import HouseholdAttachment
from tests import attachment_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def attach(a, user="village_secretary", index=0, name="证明.pdf", content=samples.PDF):
    actor = a.users[user]
    with activate(Scope.for_node(actor.node)):
        return services.household_attachment_add(
            actor=actor, household=a.households[index], upload=samples.upload(name, content)
        )


def test_the_village_secretary_attaches_and_the_page_shows_it(world, client):
    a = world.a
    photo = attach(a, name="慰问.jpg", content=samples.jpeg_with_location())
    client.force_login(a.users["village_secretary"])
    body = client.get(reverse("household-detail", kwargs={"pk": a.households[0].pk})).content
    body = body.decode()
    assert "档案照片与文档" in body
    assert photo.download_url() in body and photo.thumbnail_url() in body
    assert 'accept="image/*,.pdf,.docx,.xlsx"' in body
    assert reverse("household-attachment-delete", kwargs={"pk": photo.pk}) in body


@pytest.mark.parametrize("user", ["county_viewer", "group_leader"])
def test_readers_cannot_attach_and_see_no_upload_form(world, client, user):
    a = world.a
    with pytest.raises(PermissionDenied):
        attach(a, user=user)
    photo = attach(a)
    client.force_login(a.users[user])
    body = client.get(reverse("household-detail", kwargs={"pk": a.households[0].pk})).content
    body = body.decode()
    assert photo.download_url() in body  # readers see and download
    assert 'type="file"' not in body
    assert client.get(photo.download_url()).status_code == 200
    url = reverse("household-attachment-upload", kwargs={"pk": a.households[0].pk})
    assert client.post(url, {"file": samples.upload("a.pdf", samples.PDF)}).status_code == 403


def test_a_refused_file_is_a_chinese_message_not_an_error(world, client):
    a = world.a
    client.force_login(a.users["village_secretary"])
    url = reverse("household-attachment-upload", kwargs={"pk": a.households[0].pk})
    response = client.post(url, {"file": samples.upload("病历.html", samples.HTML)}, follow=True)
    assert response.status_code == 200
    assert "“病历”未能上传" in response.content.decode()
    with activate(Scope.for_node(a.county)):
        assert not HouseholdAttachment.objects.filter(household=a.households[0]).exists()


def test_another_countys_and_a_sibling_villages_attachment_is_404(world, client):
    a, b = world.a, world.b
    sibling = attach(a, user="county_admin", index=1)
    with activate(Scope.for_node(b.county)):
        foreign = services.household_attachment_add(
            actor=b.users["county_admin"],
            household=b.households[0],
            upload=samples.upload("b.pdf", samples.PDF),
        )
    client.force_login(a.users["village_secretary"])
    for attachment in (sibling, foreign):
        assert client.get(attachment.download_url()).status_code == 404
        assert client.post(attachment.delete_url()).status_code == 404


def test_attachments_move_with_the_household(world):
    a = world.a
    attachment = attach(a)
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        services.household_move(
            actor=admin, household=a.households[0], to_village=a.villages[2], new_number="9001"
        )
        attachment.refresh_from_db()
    assert (attachment.township_id, attachment.village_id, attachment.group_id) == (
        a.townships[1].pk,
        a.villages[2].pk,
        None,
    )
    with activate(Scope.for_node(a.villages[0])):
        assert not HouseholdAttachment.objects.filter(pk=attachment.pk).exists()
    with activate(Scope.for_node(a.villages[2])):
        assert HouseholdAttachment.objects.filter(pk=attachment.pk).exists()
