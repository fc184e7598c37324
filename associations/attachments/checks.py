"""What an uploaded attachment is, decided from its bytes: never from its name or the
browser's header. A PNG named photo.jpg is a PNG; an SVG, an HTML page, a script or anything
else that is not one of the accepted types is refused with a Chinese message, whatever its
name says.

Accepted: JPEG, PNG, WebP and GIF pictures (a GIF is stored as a PNG of its first frame),
PDF, Word (.docx) and Excel (.xlsx) documents. Old binary .doc/.xls files are refused with a
request to save them in the new format (their container cannot be told apart safely).

The size cap (``settings.ATTACHMENT_MAX_BYTES``, 10 MB by default) is kept while reading: no
more than the cap plus one byte is ever read from an upload."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

CHUNK = 64 * 1024
MAX_ZIP_ENTRIES = 5000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# codes (stable, for the API and tests)
TOO_LARGE = "attachment_too_large"
EMPTY = "attachment_empty"
TYPE_REFUSED = "attachment_type"
DAMAGED = "attachment_damaged"
TOO_MANY_PIXELS = "attachment_too_many_pixels"

ACCEPTED_TYPES_TEXT = "图片(JPG、PNG、WebP、GIF)、PDF、Word(.docx)或 Excel(.xlsx)文件"


@dataclass(frozen=True)
class FileType:
    key: str
    content_type: str
    extension: str
    is_image: bool
    label: str


JPEG = FileType("jpeg", "image/jpeg", "jpg", True, "JPEG 图片")
PNG = FileType("png", "image/png", "png", True, "PNG 图片")
WEBP = FileType("webp", "image/webp", "webp", True, "WebP 图片")
GIF = FileType("gif", "image/gif", "gif", True, "GIF 图片")
PDF = FileType("pdf", "application/pdf", "pdf", False, "PDF 文档")
DOCX = FileType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    False,
    "Word 文档",
)
XLSX = FileType(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    False,
    "Excel 工作簿",
)
TYPES = {t.key: t for t in (JPEG, PNG, WEBP, GIF, PDF, DOCX, XLSX)}
# What each stored type is served as (a GIF is re-encoded as PNG).
BY_CONTENT_TYPE = {t.content_type: t for t in TYPES.values()}


class AttachmentRefused(ValidationError):
    """The upload cannot be attached; nothing has been stored. A ValidationError on the
    `file` field, so forms and the API show it like any other field error."""

    def __init__(self, message: str, code: str):
        super().__init__({"file": ValidationError(message, code=code)})
        self.message_text = message
        self.code_text = code


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_PIXELS", 40_000_000))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def too_large(size: int | None = None) -> AttachmentRefused:
    limit = max_bytes()
    told = f"文件有 {_megabytes(size)} MB," if size else "文件"
    return AttachmentRefused(f"{told}超过了 {_megabytes(limit)} MB 的上限。", TOO_LARGE)


def read_limited(upload) -> bytes:
    """The upload's bytes, reading at most the cap plus one byte (an upload whose declared
    size is over the cap is refused before any is read)."""
    limit = max_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise too_large(declared)
    if hasattr(upload, "seek"):
        upload.seek(0)
    buffer = bytearray()
    while True:
        chunk = upload.read(min(CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > limit:
            raise too_large()
    if not buffer:
        raise AttachmentRefused("上传的文件是空的。", EMPTY)
    return bytes(buffer)


def refused_type(detail: str = "") -> AttachmentRefused:
    return AttachmentRefused(f"{detail}只能上传{ACCEPTED_TYPES_TEXT}。", TYPE_REFUSED)


def sniff(data: bytes) -> FileType:
    """The type the bytes are, or AttachmentRefused."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office_package(data)
    if data.startswith(OLE_SIGNATURE):
        raise refused_type(
            "这是旧版 Word/Excel 文件(.doc/.xls)或加了密码的文档,请在 Office 中"
            "“另存为”.docx / .xlsx 或 PDF 后上传。"
        )
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html", b"<")) or b"<svg" in head:
        raise refused_type("不接受网页、SVG 或其他 XML 文件(其中可能含有脚本)。")
    raise refused_type("无法识别的文件类型(与扩展名无关,按文件内容判断)。")


def _office_package(data: bytes) -> FileType:
    """A .docx or .xlsx: a zip with [Content_Types].xml naming the main part, no macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise refused_type("压缩包中的文件数量异常。")
            if sum(e.file_size for e in entries) > MAX_UNCOMPRESSED_BYTES:
                raise refused_type("文件解压后体积异常(疑似“压缩炸弹”)。")
            names = {e.filename for e in entries}
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise refused_type("不接受含宏的文档。")
            info = (
                archive.getinfo("[Content_Types].xml") if "[Content_Types].xml" in names else None
            )
            if info is None or info.file_size > MAX_CONTENT_TYPES_BYTES:
                raise refused_type("压缩文件不是 Word 或 Excel 文档。")
            types = archive.read(info).lower()
    except AttachmentRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise AttachmentRefused("文件已损坏,无法打开。", DAMAGED) from error
    if b"macroenabled" in types:
        raise refused_type("不接受含宏的文档。")
    if b"wordprocessingml.document.main" in types and "word/document.xml" in names:
        return DOCX
    if b"spreadsheetml.sheet.main" in types and "xl/workbook.xml" in names:
        return XLSX
    raise refused_type("压缩文件不是 Word 或 Excel 文档。")
