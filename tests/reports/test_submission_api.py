"""The submissions API: the workflow's actions as POSTs over the same services, errors in the
project's format (400 with codes, 403, 404 out of scope)."""

import pytest
from rest_framework.test import APIClient

from reports.models import Submission

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/reports/submissions/"
PERIODS = "/api/v1/reports/periods/"


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


def test_the_workflow_through_the_api(a):
    village = client_for(a.users["village_secretary"])
    township = client_for(a.users["township_staff"])
    admin = client_for(a.users["county_admin"])
    mine = submission_of(a)
    listed = village.get(SUBMISSIONS, {"period": "2026-Q1"}).json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]  # the village sees its own only
    detail = village.get(f"{SUBMISSIONS}{mine.pk}/").json()
    ids = {row["indicator_key"]: row["id"] for row in detail["scores"]}
    body = {"note": "已整理", "scores": [{"id": ids["archives"], "score": "9"}]}
    response = village.post(f"{SUBMISSIONS}{mine.pk}/scores/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"][f"score_{ids['archives']}"][0]["code"] == (
        "out_of_range"
    )
    body["scores"][0]["score"] = "2"
    assert village.post(f"{SUBMISSIONS}{mine.pk}/scores/", body, format="json").status_code == 200
    assert village.post(f"{SUBMISSIONS}{mine.pk}/submit/").json()["state"] == "submitted"
    response = township.post(f"{SUBMISSIONS}{mine.pk}/return/", {"reason": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reason"][0]["code"] == "required"
    response = township.post(f"{SUBMISSIONS}{mine.pk}/return/", {"reason": "补照片"}, format="json")
    assert (response.json()["state"], response.json()["return_reason"]) == ("returned", "补照片")
    assert village.get(f"{SUBMISSIONS}{mine.pk}/").json()["return_reason"] == "补照片"
    village.post(f"{SUBMISSIONS}{mine.pk}/submit/")
    scores = [{"id": ids["archives"], "score": "2"}, {"id": ids["sign"], "score": "3"}]
    response = township.post(f"{SUBMISSIONS}{mine.pk}/accept/", {"scores": scores}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    assert [e["action"] for e in response.json()["events"]] == [
        "saved",
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]
    period = a.periods[0].pk
    assert township.post(f"{PERIODS}{period}/lock/").status_code == 404  # not its row
    assert client_for(a.users["county_viewer"]).post(f"{PERIODS}{period}/lock/").status_code == 403
    locked = admin.post(f"{PERIODS}{period}/lock/").json()
    assert (locked["state"], locked["expected"], locked["accepted"]) == ("locked", 4, 1)
    response = admin.post(f"{PERIODS}{period}/reopen/", {"reason": ""}, format="json")
    assert response.status_code == 400
    response = admin.post(f"{PERIODS}{period}/reopen/", {"reason": "补录"}, format="json")
    assert [e["action"] for e in response.json()["events"]] == ["opened", "locked", "reopened"]


def test_out_of_scope_submissions_are_404_and_roles_403(world, a):
    sibling = submission_of(a, 1)
    village = client_for(a.users["village_secretary"])
    assert village.get(f"{SUBMISSIONS}{sibling.pk}/").status_code == 404
    assert village.post(f"{SUBMISSIONS}{sibling.pk}/submit/").status_code == 404
    other_township = submission_of(a, 2)
    township = client_for(a.users["township_staff"])
    assert township.get(f"{SUBMISSIONS}{other_township.pk}/").status_code == 404
    with world.b.scope():
        foreign = Submission.objects.filter(period=world.b.periods[0]).first()
    assert client_for(a.users["county_admin"]).get(f"{SUBMISSIONS}{foreign.pk}/").status_code == 404
    own = submission_of(a)
    assert township.post(f"{SUBMISSIONS}{own.pk}/submit/").status_code == 403
    assert village.get(SUBMISSIONS, {"period": "bad"}).json()["results"] == []
