"""The period and submission pages, by role: the county opens, sees completeness, locks and
reopens (a reason required); the village fills its scores with the digit keyboard and
submits; the township returns with a reason the village then reads, and accepts."""

import datetime

import pytest
from django.urls import reverse

from reports.models import AssessmentPeriod, ManualScore, Submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    return world.a


def submission_of(a, index=0) -> Submission:
    with a.scope():
        return Submission.objects.get(period=a.periods[0], village=a.villages[index])


def score_ids(a, submission):
    with a.scope():
        return {
            row.indicator.key: row.pk
            for row in ManualScore.objects.filter(submission=submission).select_related("indicator")
        }


def text(response) -> str:
    return response.content.decode()


def test_county_opens_a_period_from_the_page(client, a):
    admin = a.users["county_admin"]
    client.force_login(admin)
    page = client.get(reverse("period-list", args=[a.county.pk]))
    assert page.status_code == 200 and "开启考核期" in text(page) and "2026年第一季度" in text(page)
    version = a.periods[0].version_id
    url = reverse("period-open", args=[a.county.pk])
    bad = client.post(url, {"key": "2026-05", "version": version, "due_on": "2026-07-10"})
    assert bad.status_code == 400 and "考核期应为季度" in text(bad)
    again = client.post(url, {"key": "2026-q1", "version": version, "due_on": "2026-07-10"})
    assert again.status_code == 400 and "2026年第一季度的考核期已经开启" in text(again)
    response = client.post(url, {"key": "2026-H1", "version": version, "due_on": "2026-07-10"})
    with a.scope():
        period = AssessmentPeriod.objects.get(key="2026-H1")
    assert response.status_code == 302 and response.url == reverse(
        "period-detail", args=[period.pk]
    )
    detail = client.get(response.url)
    assert "2026年上半年" in text(detail) and "0.0%" in text(detail)


def test_the_workflow_through_the_pages(client, a):
    submission = submission_of(a)
    ids = score_ids(a, submission)
    url = reverse("submission-detail", args=[submission.pk])
    client.force_login(a.users["village_secretary"])
    page = client.get(url)
    assert 'inputmode="decimal"' in text(page) and "保存并报送" in text(page)
    too_high = {f"score_{ids['archives']}": "9", "note": ""}
    response = client.post(url, {**too_high, "submit": "1"})
    assert response.status_code == 400 and "得分不能超过满分 3.00" in text(response)
    filled = {
        f"score_{ids['archives']}": "2.5",
        f"note_{ids['archives']}": "缺花名册",
        f"score_{ids['sign']}": "3",
        "note": "档案已整理",
    }
    assert client.post(url, {**filled, "submit": "1"}).status_code == 302
    assert "待审核" in text(client.get(url))

    client.force_login(a.users["township_staff"])
    review = reverse("submission-review", args=[submission.pk])
    page = client.get(url)
    assert "审核通过" in text(page) and "自评分 2.50" in text(page)
    response = client.post(review, {"return": "1", "reason": ""})
    assert response.status_code == 400 and "请填写退回原因" in text(response)
    assert client.post(review, {"return": "1", "reason": "请补充阵地照片"}).status_code == 302

    client.force_login(a.users["village_secretary"])
    page = text(client.get(url))
    assert "乡镇(街道)退回" in page and "请补充阵地照片" in page
    assert client.post(url, {**filled, "submit": "1"}).status_code == 302

    client.force_login(a.users["township_staff"])
    accept = {f"score_{ids['archives']}": "2", f"score_{ids['sign']}": "3", "accept": "1"}
    assert client.post(review, accept).status_code == 302
    page = text(client.get(url))
    assert "已通过" in page and "退回:请补充阵地照片" in page  # the history keeps the return

    client.force_login(a.users["county_admin"])
    period = reverse("period-detail", args=[a.periods[0].pk])
    page = text(client.get(period))
    assert "25.0%" in page  # one of the four villages accepted
    assert client.post(reverse("period-lock", args=[a.periods[0].pk])).status_code == 302
    reopen = reverse("period-reopen", args=[a.periods[0].pk])
    response = client.post(reopen, {"reason": ""})
    assert response.status_code == 400 and "请填写原因" in text(response)
    assert client.post(reopen, {"reason": "补录活动"}).status_code == 302
    assert "重新开放:补录活动" in text(client.get(period))


def test_township_sees_its_villages_and_the_village_lands_on_its_own(client, a):
    client.force_login(a.users["township_staff"])
    page = text(client.get(reverse("period-node", args=[a.townships[0].pk, "2026-Q1"])))
    assert a.villages[0].name in page and a.villages[1].name in page
    assert a.villages[2].name not in page
    assert (
        client.get(reverse("period-node", args=[a.townships[0].pk, "2030-Q1"])).status_code == 404
    )
    client.force_login(a.users["village_secretary"])
    response = client.get(reverse("period-node", args=[a.villages[0].pk, "2026-Q1"]))
    assert response.url == reverse("submission-detail", args=[submission_of(a).pk])
    # the sibling village's submission is not there
    sibling = submission_of(a, 1)
    assert client.get(reverse("submission-detail", args=[sibling.pk])).status_code == 404


def test_the_node_page_links_for_staff_not_group_leaders(client, a):
    client.force_login(a.users["village_secretary"])
    page = text(client.get(reverse("node-detail", args=[a.villages[0].pk])))
    assert reverse("period-list", args=[a.villages[0].pk]) in page
    client.force_login(a.users["group_leader"])
    page = text(client.get(reverse("node-detail", args=[a.groups[0].pk])))
    assert "考核报送" not in page


def test_viewer_reads_but_cannot_lock(client, a):
    client.force_login(a.users["county_viewer"])
    assert client.get(reverse("period-detail", args=[a.periods[0].pk])).status_code == 200
    assert client.post(reverse("period-lock", args=[a.periods[0].pk])).status_code == 403
    assert datetime.date(2026, 4, 10) == a.periods[0].due_on


def test_evidence_photos_by_the_village_and_the_township(client, a):
    from reports.models import SubmissionAttachment
    from tests import attachment_samples as samples

    submission = submission_of(a)
    upload_url = reverse("submission-attachment-upload", args=[submission.pk])
    photo = samples.png(size=(8, 8), color=(200, 10, 10))
    client.force_login(a.users["village_secretary"])
    response = client.post(upload_url, {"file": samples.upload("阵地.png", photo)})
    assert response.status_code == 302
    with a.scope():
        assert SubmissionAttachment.objects.filter(submission=submission).count() == 1
    client.post(reverse("submission-detail", args=[submission.pk]), {"submit": "1"})
    # submitted: the village no longer adds; the township reviewing does
    third = samples.png(size=(8, 8), color=(10, 10, 200))
    client.post(upload_url, {"file": samples.upload("再补.png", third)})
    client.force_login(a.users["township_staff"])
    page = text(client.get(reverse("submission-detail", args=[submission.pk])))
    assert "阵地.png" in page and "佐证材料" in page
    other = samples.png(size=(8, 8), color=(10, 200, 10))
    client.post(upload_url, {"file": samples.upload("核查.png", other)})
    with a.scope():
        names = set(
            SubmissionAttachment.objects.filter(submission=submission).values_list(
                "name", flat=True
            )
        )
    assert names == {"阵地.png", "核查.png"}


def test_no_evidence_is_added_once_the_period_is_locked(client, a):
    from reports import periods_services
    from reports.models import SubmissionAttachment
    from tests import attachment_samples as samples

    submission = submission_of(a)
    with a.scope():
        periods_services.period_lock(actor=a.users["county_admin"], period=a.periods[0])
    client.force_login(a.users["village_secretary"])
    photo = samples.png(size=(8, 8), color=(1, 2, 3))
    url = reverse("submission-attachment-upload", args=[submission.pk])
    response = client.post(url, {"file": samples.upload("迟交.png", photo)})
    assert response.status_code in (302, 403)
    with a.scope():
        assert not SubmissionAttachment.objects.filter(submission=submission).exists()
    assert 'inputmode="decimal"' not in text(
        client.get(reverse("submission-detail", args=[submission.pk]))
    )
