"""Demo photos: a handful of generated pictures (a stand, a banner, people in a row — shapes
in the colours of a publicity day) attached to the demo county's newest activities and to a
few village councils, through the same attachment service as uploads (re-encoded, with
thumbnails, private files). The same handful whatever the scale: `--scale large` adds no more."""

from __future__ import annotations

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from associations.attachments.services import attachment_add
from associations.models import Association, Council, CouncilAttachment, Level

from .models import Activity, ActivityAttachment

ACTIVITY_PHOTOS = 12
COUNCIL_PHOTOS = 4
PHOTO_NAMES = ["活动现场", "宣传展板", "合影", "发放宣传资料", "咨询服务台", "会议现场"]
COUNCIL_PHOTO_NAMES = ["换届选举大会", "理事会会议", "理事会成员合影"]


def picture(rng: random.Random, size=(800, 600)) -> bytes:
    """A scene of shapes: sky and ground, a red banner, a stand, a row of people."""
    width, height = size
    image = Image.new("RGB", size, (rng.randint(150, 200), rng.randint(190, 230), 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(120, 150 + rng.randint(0, 40), 90))
    top = rng.randint(40, 120)
    draw.rectangle((60, top, width - 60, top + 70), fill=(200, 30, 40))
    draw.rectangle((width // 3, height // 3, width * 2 // 3, height * 2 // 3 + 20), fill="white")
    for i in range(rng.randint(4, 9)):
        x = 50 + i * (width - 100) // 9
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.ellipse((x, height * 2 // 3 - 90, x + 40, height * 2 // 3 - 50), fill=(240, 200, 170))
        draw.rectangle((x + 5, height * 2 // 3 - 50, x + 35, height * 2 // 3 + 30), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _photo(rng: random.Random, index: int, names=PHOTO_NAMES) -> SimpleUploadedFile:
    name = f"{rng.choice(names)}{index + 1}.jpg"
    return SimpleUploadedFile(name, picture(rng), content_type="image/jpeg")


def seed_photos(*, county: Association) -> int:
    """Attach the demo photos (inside the county's scope). Returns how many were stored.
    Its own random source: the other demo data come out the same with or without photos."""
    rng = random.Random(f"photos-{county.division_code}")
    stored = 0
    activities = Activity.objects.select_related("association").order_by("-date", "-id")
    for index, activity in enumerate(activities[:ACTIVITY_PHOTOS]):
        if ActivityAttachment.objects.filter(activity=activity).exists():
            continue
        attachment_add(
            actor=None,
            model=ActivityAttachment,
            owner=activity,
            node=activity.association,
            upload=_photo(rng, index),
            allowed=True,
        )
        stored += 1
    councils = Council.objects.filter(association__level=Level.VILLAGE).select_related(
        "association"
    )
    for index, council in enumerate(councils.order_by("association__division_code")):
        if index >= COUNCIL_PHOTOS:
            break
        if CouncilAttachment.objects.filter(council=council).exists():
            continue
        attachment_add(
            actor=None,
            model=CouncilAttachment,
            owner=council,
            node=council.association,
            upload=_photo(rng, index, COUNCIL_PHOTO_NAMES),
            allowed=True,
        )
        stored += 1
    return stored
