"""The shared attachment machinery (associations/attachments/), through the councils' own
attachments: the type comes from the bytes, the size cap, pictures re-encoded without their
EXIF (GPS) with a thumbnail, decompression bombs, private files per county, deletion, the
change records, and the council page's card and routes."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from PIL import Image

from associations import council_attachments as ca
from associations.attachments import checks, storage
from associations.models import ChangeRecord, CouncilAttachment
from associations.scope import Scope, activate
from tests import attachment_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def a(world):
    with activate(Scope.for_node(world.a.county)):
        yield world.a


def council_of(a, index=0):
    return a.councils[a.villages[index].pk]


def add(a, name, content, *, user="county_admin", index=0):
    return ca.council_attachment_add(
        actor=a.users[user], council=council_of(a, index), upload=samples.upload(name, content)
    )


def refused_code(a, name, content) -> str:
    with pytest.raises(ValidationError) as caught:
        add(a, name, content)
    return caught.value.error_dict["file"][0].code


def stored_bytes(attachment, thumbnail=False) -> bytes:
    return storage.resolve(attachment.thumbnail if thumbnail else attachment.file).read_bytes()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- what a file is ---------------------------------------------------------------------------


def test_a_png_named_jpg_is_stored_and_served_as_png(a, client):
    attachment = add(a, "现场照片.jpg", samples.png())
    assert (attachment.content_type, attachment.kind) == ("image/png", "image")
    assert attachment.name == "现场照片.png"
    assert attachment.file.endswith(".png")
    assert stored_bytes(attachment).startswith(b"\x89PNG")
    client.force_login(a.users["county_admin"])
    response = client.get(attachment.download_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == stored_bytes(attachment)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("标志.svg", samples.SVG_WITH_SCRIPT),
        ("photo.jpg", samples.SVG_WITH_SCRIPT),  # whatever it is called
        ("通知.html", samples.HTML),
        ("通知.pdf", samples.HTML),
        ("资料.zip", samples.plain_zip()),
        ("宏.docx", samples.docx(macro=True)),
        ("script.jpg", b"#!/bin/sh\nrm -rf /\n"),
        ("旧版.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ],
)
def test_other_types_are_refused_whatever_their_name(a, name, content):
    assert refused_code(a, name, content) == checks.TYPE_REFUSED
    assert not CouncilAttachment.objects.filter(council=council_of(a)).exists()


def test_the_refusal_says_in_chinese_what_is_accepted(a):
    with pytest.raises(ValidationError) as caught:
        add(a, "标志.svg", samples.SVG_WITH_SCRIPT)
    message = caught.value.error_dict["file"][0].message
    assert "SVG" in message and "只能上传" in message


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("会议纪要.pdf", samples.PDF, "application/pdf", "pdf"),
        ("纪要", samples.docx(), checks.DOCX.content_type, "docx"),
        ("签到表.xlsx", samples.xlsx(), checks.XLSX.content_type, "xlsx"),
        ("动图.gif", samples.gif(), "image/png", "png"),
        ("photo.webp", samples.webp(), "image/webp", "webp"),
    ],
)
def test_accepted_types(a, name, content, content_type, extension):
    attachment = add(a, name, content)
    assert attachment.content_type == content_type
    assert attachment.name.endswith(f".{extension}")
    if attachment.kind == "document":
        assert stored_bytes(attachment) == content  # documents are kept as sent
        assert attachment.thumbnail == ""


def test_a_document_is_sent_as_a_download(a, client):
    attachment = add(a, "会议纪要.pdf", samples.PDF)
    client.force_login(a.users["county_viewer"])
    response = client.get(attachment.download_url())
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf"
        in (response["Content-Disposition"])
    )


def test_display_names_are_cleaned():
    assert storage.display_name("C:\\Users\\张三\\照片 1.JPG", "jpg") == "照片 1.jpg"
    assert storage.display_name("../../etc/passwd", "pdf") == "passwd.pdf"
    assert storage.display_name("\u202ecod.exe\x00", "png") == "cod.png"
    assert storage.display_name("", "pdf") == "附件.pdf"
    assert len(storage.display_name("长" * 300 + ".pdf", "pdf")) == storage.MAX_NAME


# --- size and pixel caps ----------------------------------------------------------------------


def test_an_oversize_file_is_refused(a, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    content = samples.PDF + b"%" * 1000
    assert refused_code(a, "大文件.pdf", content) == checks.TOO_LARGE
    assert add(a, "小文件.pdf", samples.PDF).size == len(samples.PDF)


class Unsized(io.BytesIO):
    """An upload that does not say its size: the cap is kept while reading."""

    name = "big.pdf"
    reads = 0

    def read(self, n=-1):
        Unsized.reads += max(n, 0)
        return super().read(n)


def test_the_cap_is_kept_while_reading(settings):
    settings.ATTACHMENT_MAX_BYTES = 100_000
    upload = Unsized(samples.PDF + b"%" * 5_000_000)
    with pytest.raises(ValidationError):
        checks.read_limited(upload)
    assert upload.tell() <= 100_001


def test_an_empty_file_is_refused(a):
    assert refused_code(a, "空.pdf", b"") == checks.EMPTY


def test_a_decompression_bomb_is_refused(a):
    bomb = samples.png_bomb()
    assert len(bomb) < 200
    assert refused_code(a, "bomb.png", bomb) == checks.TOO_MANY_PIXELS


def test_a_picture_over_the_pixel_cap_is_refused(a, settings):
    settings.ATTACHMENT_MAX_PIXELS = 10_000
    assert refused_code(a, "大图.png", samples.png(size=(200, 100))) == checks.TOO_MANY_PIXELS
    assert add(a, "小图.png", samples.png(size=(100, 100))).width == 100


def test_a_damaged_picture_is_refused(a):
    assert refused_code(a, "坏图.png", samples.png()[:40]) == checks.DAMAGED


# --- pictures: metadata removed, turned upright, a thumbnail ---------------------------------


def test_a_jpeg_loses_its_exif_and_location(a):
    original = samples.jpeg_with_location()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(samples.GPS_IFD)  # the sample does carry a location
    attachment = add(a, "现场.jpg", original)
    with Image.open(io.BytesIO(stored_bytes(attachment))) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        assert not stored.getexif().get_ifd(samples.GPS_IFD)
        # turned upright by its orientation: stored 400×300, shown (and now kept) 300×400
        assert stored.size == (300, 400)
    assert (attachment.width, attachment.height) == (300, 400)
    assert b"TestPhone" not in stored_bytes(attachment)


def test_a_thumbnail_is_made_and_is_small(a, settings):
    settings.ATTACHMENT_MAX_EDGE = 1000
    attachment = add(a, "大图.png", samples.png(size=(1600, 1200)))
    assert (attachment.width, attachment.height) == (1000, 750)  # long edge capped
    with Image.open(io.BytesIO(stored_bytes(attachment, thumbnail=True))) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (320, 240)
        assert "exif" not in thumb.info


def test_files_are_private_and_stored_per_county(a, media_root):
    attachment = add(a, "现场.jpg", samples.jpeg_with_location())
    path = storage.resolve(attachment.file)
    thumb = storage.resolve(attachment.thumbnail)
    assert mode(path) == 0o600 and mode(thumb) == 0o600
    county_folder = media_root / "attachments" / str(a.county.pk)
    assert county_folder in path.parents
    for folder in path.parents:
        if folder == media_root.parent:
            break
        assert mode(folder) == 0o700, folder
    assert "现场" not in path.name  # a random name, not the uploaded one


def test_the_same_file_twice_is_stored_once(a):
    first = add(a, "照片.png", samples.png())
    again = add(a, "照片(1).png", samples.png())
    assert again.pk == first.pk and again.replayed
    assert CouncilAttachment.objects.filter(council=council_of(a)).count() == 1


# --- permissions, change records, deletion ----------------------------------------------------


def test_a_county_viewer_cannot_upload(a):
    with pytest.raises(PermissionDenied):
        add(a, "照片.png", samples.png(), user="county_viewer")


def test_a_sibling_village_secretary_cannot_upload(a):
    with pytest.raises(PermissionDenied):
        add(a, "照片.png", samples.png(), user="village_secretary_sibling", index=0)
    assert add(a, "照片.png", samples.png(), user="village_secretary").pk


def test_upload_and_delete_are_recorded_and_delete_removes_the_files(
    a, django_capture_on_commit_callbacks
):
    attachment = add(a, "现场.jpg", samples.jpeg_with_location(), user="village_secretary")
    paths = [storage.resolve(attachment.file), storage.resolve(attachment.thumbnail)]
    records = ChangeRecord.objects.filter(
        object_type="associations.CouncilAttachment", object_id=attachment.pk
    )
    created = records.get(action="create")
    assert created.after["name"] == "现场.jpg"
    assert created.after["council"] == council_of(a).pk
    assert created.node_id == a.villages[0].pk
    with django_capture_on_commit_callbacks(execute=True):
        ca.council_attachment_delete(actor=a.users["village_secretary"], attachment=attachment)
    assert not CouncilAttachment.objects.filter(pk=attachment.pk).exists()
    assert records.filter(action="delete").count() == 1
    assert not any(p.exists() for p in paths)


def test_a_missing_file_is_404_not_500(a, client):
    attachment = add(a, "照片.png", samples.png())
    storage.resolve(attachment.file).unlink()
    client.force_login(a.users["county_admin"])
    assert client.get(attachment.download_url()).status_code == 404


# --- the council page -------------------------------------------------------------------------


def test_the_council_page_shows_the_card_and_uploads(world, client, media_root):
    a = world.a
    village = a.villages[0]
    client.force_login(a.users["village_secretary"])
    page = client.get(reverse("council", kwargs={"pk": village.pk}))
    body = page.content.decode()
    assert 'accept="image/*,.pdf,.docx,.xlsx"' in body
    council = a.councils[village.pk]
    url = reverse("council-attachment-upload", kwargs={"pk": council.pk})
    response = client.post(
        url,
        {"file": [samples.upload("选举报告.pdf", samples.PDF), samples.upload("x.svg", b"<svg/>")]},
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "已上传 1 个附件:选举报告.pdf" in body
    assert "“x”未能上传" in body
    with activate(Scope.for_node(a.county)):
        attachment = CouncilAttachment.objects.get(council=council)
    assert attachment.download_url() in body
    assert attachment.uploaded_by == a.users["village_secretary"]


def test_the_council_page_hides_the_upload_form_from_readers(world, client):
    a = world.a
    client.force_login(a.users["county_viewer"])
    body = client.get(reverse("council", kwargs={"pk": a.villages[0].pk})).content.decode()
    assert "照片与文档" in body or "本届理事会资料" in body
    assert 'type="file"' not in body
    council = a.councils[a.villages[0].pk]
    url = reverse("council-attachment-upload", kwargs={"pk": council.pk})
    response = client.post(url, {"file": samples.upload("a.pdf", samples.PDF)})
    assert response.status_code == 403


def test_an_upload_without_a_file_is_a_message(world, client):
    a = world.a
    client.force_login(a.users["county_admin"])
    council = a.councils[a.villages[0].pk]
    url = reverse("council-attachment-upload", kwargs={"pk": council.pk})
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200
    assert "请选择要上传的文件" in response.content.decode()


def test_another_countys_and_a_sibling_villages_attachment_is_404(world, client):
    a, b = world.a, world.b
    with activate(Scope.for_node(b.county)):
        foreign = ca.council_attachment_add(
            actor=b.users["county_admin"],
            council=b.councils[b.villages[0].pk],
            upload=samples.upload("b.png", samples.png()),
        )
    with activate(Scope.for_node(a.county)):
        sibling = add(a, "v1.png", samples.png(color=(1, 2, 3)), index=1)
    client.force_login(a.users["village_secretary"])  # village 0
    for attachment in (foreign, sibling):
        for url in (attachment.download_url(), attachment.thumbnail_url()):
            assert client.get(url).status_code == 404, url
        assert client.post(attachment.delete_url()).status_code == 404
    client.force_login(a.users["county_admin"])
    assert client.get(sibling.download_url()).status_code == 200
    assert client.get(foreign.download_url()).status_code == 404


# --- the cap while the request is read, and CSRF --------------------------------------------


def test_an_oversize_upload_is_skipped_while_read_and_named(world, client, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    a = world.a
    client.force_login(a.users["county_admin"])
    council = a.councils[a.villages[0].pk]
    url = reverse("council-attachment-upload", kwargs={"pk": council.pk})
    big = samples.upload("大文件.pdf", samples.PDF + b"%" * 300_000)
    response = client.post(url, {"file": [big, samples.upload("小.pdf", samples.PDF)]}, follow=True)
    body = response.content.decode()
    assert "“大文件”未能上传:文件超过了" in body
    assert "已上传 1 个附件:小.pdf" in body
    with activate(Scope.for_node(a.county)):
        assert list(CouncilAttachment.objects.filter(council=council).values_list("name")) == [
            ("小.pdf",)
        ]


def test_the_capped_handler_stops_passing_bytes_past_the_cap(rf):
    from django.core.files.uploadhandler import SkipFile

    from associations.attachments.uploads import CappedUploadHandler, oversize_uploads

    request = rf.post("/")
    handler = CappedUploadHandler(request, limit=100)
    handler.new_file("file", "a.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert oversize_uploads(request) == ["a.pdf"]
    handler.new_file("file", "b.pdf", "application/pdf", None)  # the next file starts at 0
    assert handler.receive_data_chunk(b"x" * 100, 0) == b"x" * 100


def test_the_upload_page_still_checks_csrf(world):
    from django.test import Client

    a = world.a
    client = Client(enforce_csrf_checks=True)
    client.force_login(a.users["county_admin"])
    council = a.councils[a.villages[0].pk]
    url = reverse("council-attachment-upload", kwargs={"pk": council.pk})
    response = client.post(url, {"file": samples.upload("a.pdf", samples.PDF)})
    assert response.status_code == 403
    with activate(Scope.for_node(a.county)):
        assert not CouncilAttachment.objects.filter(council=council).exists()
