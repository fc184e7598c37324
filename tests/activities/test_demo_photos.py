"""The demo county's photos: a handful, through the attachment service (re-encoded, with
thumbnails), attached to the newest activities and to a few village councils; seeding again
adds none."""

import datetime

import pytest
from django.core.management import call_command

from activities import services
from activities.demo_photos import ACTIVITY_PHOTOS, COUNCIL_PHOTOS, seed_photos
from activities.models import ActivityAttachment
from associations.attachments import storage
from associations.management.base import find_county
from associations.models import Association, CouncilAttachment, User
from associations.scope import Scope, activate

pytestmark = pytest.mark.django_db


def test_the_demo_county_gets_a_handful_of_photos(capsys):
    call_command("seed_demo", county="131127", name="景县", without_people=True)
    county = find_county("131127")
    with activate(Scope.for_node(county)):
        photos = list(CouncilAttachment.objects.select_related("council__association"))
        assert len(photos) == COUNCIL_PHOTOS
        assert {p.council.association.level for p in photos} == {"village"}
        for photo in photos:
            assert photo.content_type == "image/jpeg"
            assert storage.resolve(photo.file) and storage.resolve(photo.thumbnail)
        # activities recorded later get theirs from another run; the first run adds none twice
        admin = User.objects.get(county=county, role="county_admin")
        group = Association.objects.filter(level="group").first()
        for day in range(1, ACTIVITY_PHOTOS + 3):
            services.activity_create(
                actor=admin, association=group, kind="publicity", date=datetime.date(2024, 3, day)
            )
        assert seed_photos(county=county) == ACTIVITY_PHOTOS
        assert ActivityAttachment.objects.count() == ACTIVITY_PHOTOS
        newest = ActivityAttachment.objects.order_by("-activity__date").first()
        assert newest.activity.date == datetime.date(2024, 3, ACTIVITY_PHOTOS + 2)
        assert seed_photos(county=county) == 0
