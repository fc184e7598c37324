"""Evidence (佐证材料) of a submission over the API, under the same rules as the pages: the
village uploads, lists, reads, downloads and deletes while it may change the submission; the
township while it reviews; nobody once it is accepted or the period is locked (400 saying
why); a county viewer is refused (403); another village's or county's submission is a 404."""

import pytest
from rest_framework.test import APIClient

from reports import periods_services
from reports.models import ManualScore, Submission, SubmissionAttachment
from tests import attachment_samples as samples

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/reports/submissions/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def a(world):
    return world.a


def submission_of(a, index=0) -> Submission:
    with a.scope():
        return Submission.objects.get(period=a.periods[0], village=a.villages[index])


def _upload(client, submission, name="阵地.png", color=(200, 10, 10)):
    photo = samples.png(size=(8, 8), color=color)
    return client.post(
        f"{SUBMISSIONS}{submission.pk}/attachments/",
        {"file": samples.upload(name, photo)},
        format="multipart",
    )


def test_upload_list_read_download_delete(a):
    village = client_for(a.users["village_secretary"])
    mine = submission_of(a)
    url = f"{SUBMISSIONS}{mine.pk}/attachments/"
    assert village.get(url).json() == []
    created = _upload(village, mine)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["kind"], body["content_type"]) == ("阵地.png", "image", "image/png")
    assert body["url"] == f"{url}{body['id']}/download/"
    assert body["thumbnail_url"] == f"{url}{body['id']}/thumbnail/"
    again = _upload(village, mine)  # the same file again: kept once
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert [row["id"] for row in village.get(url).json()] == [body["id"]]
    assert village.get(f"{url}{body['id']}/").json()["name"] == "阵地.png"
    download = village.get(body["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert village.get(body["thumbnail_url"]).status_code == 200
    # the township reads them too
    township = client_for(a.users["township_staff"])
    assert [row["id"] for row in township.get(url).json()] == [body["id"]]
    # a file that is not what it says is refused in words, and nothing is kept
    fake = village.post(
        url, {"file": samples.upload("假.png", b"not an image")}, format="multipart"
    )
    assert fake.status_code == 400
    assert village.post(url, {}, format="multipart").status_code == 400
    deleted = village.delete(f"{url}{body['id']}/")
    assert deleted.status_code == 204
    assert village.get(url).json() == []
    assert village.get(f"{url}{body['id']}/").status_code == 404


def test_who_may_write(a):
    mine = submission_of(a)
    viewer = client_for(a.users["county_viewer"])
    assert viewer.get(f"{SUBMISSIONS}{mine.pk}/attachments/").status_code == 200
    assert _upload(viewer, mine).status_code == 403
    # the township may add only while it reviews a submitted one
    township = client_for(a.users["township_staff"])
    assert _upload(township, mine).status_code == 403
    village = client_for(a.users["village_secretary"])
    assert village.post(f"{SUBMISSIONS}{mine.pk}/submit/").status_code == 200
    assert _upload(village, mine).status_code == 403  # submitted: no longer the village's
    assert _upload(township, mine, "核查.png").status_code == 201


def test_refused_once_accepted(a):
    mine = submission_of(a)
    village = client_for(a.users["village_secretary"])
    township = client_for(a.users["township_staff"])
    photo = _upload(village, mine).json()
    village.post(f"{SUBMISSIONS}{mine.pk}/submit/")
    with a.scope():
        scores = [
            {"id": row.pk, "score": "1"} for row in ManualScore.objects.filter(submission=mine)
        ]
    accepted = township.post(f"{SUBMISSIONS}{mine.pk}/accept/", {"scores": scores}, format="json")
    assert accepted.json()["state"] == "accepted"
    refused = _upload(township, mine, "晚了.png", (1, 1, 1))
    assert refused.status_code == 400
    assert "报送已审核通过" in str(refused.json())
    gone = township.delete(f"{SUBMISSIONS}{mine.pk}/attachments/{photo['id']}/")
    assert gone.status_code == 400
    with a.scope():
        assert SubmissionAttachment.objects.filter(submission=mine).count() == 1


def test_refused_once_the_period_is_locked(a):
    mine = submission_of(a)
    village = client_for(a.users["village_secretary"])
    photo = _upload(village, mine).json()
    with a.scope():
        periods_services.period_lock(actor=a.users["county_admin"], period=a.periods[0])
    refused = _upload(village, mine, "迟交.png", (1, 2, 3))
    assert refused.status_code == 400 and "考核期已锁定" in str(refused.json())
    gone = village.delete(f"{SUBMISSIONS}{mine.pk}/attachments/{photo['id']}/")
    assert gone.status_code == 400
    with a.scope():
        assert SubmissionAttachment.objects.filter(submission=mine).count() == 1


def test_other_villages_and_counties_are_404(a, world):
    mine, sibling = submission_of(a), submission_of(a, 1)
    village = client_for(a.users["village_secretary"])
    theirs = _upload(client_for(a.users["village_secretary_sibling"]), sibling).json()
    with a.scope():
        kept = SubmissionAttachment.objects.filter(submission=sibling).count()  # (the world's +1)
    assert village.get(f"{SUBMISSIONS}{sibling.pk}/attachments/").status_code == 404
    assert _upload(village, sibling).status_code == 404
    sibling_url = f"{SUBMISSIONS}{sibling.pk}/attachments/{theirs['id']}/"
    assert village.delete(sibling_url).status_code == 404
    assert village.get(f"{sibling_url}download/").status_code == 404
    # the sibling's attachment through one's own submission: 404 too
    assert village.get(f"{SUBMISSIONS}{mine.pk}/attachments/{theirs['id']}/").status_code == 404
    assert village.delete(f"{SUBMISSIONS}{mine.pk}/attachments/{theirs['id']}/").status_code == 404
    other_county = client_for(world.b.users["county_admin"])
    assert other_county.get(f"{SUBMISSIONS}{mine.pk}/attachments/").status_code == 404
    assert other_county.get(sibling_url).status_code == 404
    with a.scope():
        assert SubmissionAttachment.objects.filter(submission=sibling).count() == kept
