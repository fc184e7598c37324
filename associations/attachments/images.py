"""Pictures are never stored as uploaded: each is decoded with Pillow, turned upright by its
EXIF orientation, cut down to ATTACHMENT_MAX_EDGE pixels on its long edge and encoded afresh
from the bare pixels, so nothing of the original's metadata survives (EXIF with its GPS
location, XMP, comments, maker notes). Only the colour profile (ICC) is kept: it holds no
personal data and without it a phone's wide-gamut photo looks washed out. A JPEG thumbnail
(ATTACHMENT_THUMB_EDGE pixels) is made beside it.

A picture whose header declares more pixels than ATTACHMENT_MAX_PIXELS is refused before any
pixel is decoded (a "decompression bomb": a few kilobytes that unpack to gigabytes)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from . import checks
from .checks import GIF, JPEG, PNG, WEBP, AttachmentRefused, FileType

PILLOW_FORMATS = {JPEG.key: "JPEG", PNG.key: "PNG", WEBP.key: "WEBP", GIF.key: "GIF"}
# What each picture type is stored as.
STORED_AS = {JPEG.key: JPEG, PNG.key: PNG, WEBP.key: WEBP, GIF.key: PNG}


@dataclass(frozen=True)
class Picture:
    content: bytes
    file_type: FileType
    width: int
    height: int
    thumbnail: bytes


def max_edge() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_EDGE", 2560))


def thumb_edge() -> int:
    return int(getattr(settings, "ATTACHMENT_THUMB_EDGE", 320))


def _too_many_pixels(size: tuple[int, int] | None = None) -> AttachmentRefused:
    told = f" {size[0]}×{size[1]} 像素" if size else ""
    limit = checks.max_pixels()
    limit_text = f"{limit // 1_000_000} 百万" if limit >= 1_000_000 else f"{limit} "
    return AttachmentRefused(
        f"图片尺寸{told}超过了 {limit_text}像素的上限(可能是异常文件),请缩小后再上传。",
        checks.TOO_MANY_PIXELS,
    )


def _open(data: bytes, file_type: FileType) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[file_type.key]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise AttachmentRefused("图片已损坏,无法打开。", checks.DAMAGED) from error
    width, height = image.size
    if width * height > checks.max_pixels():
        raise _too_many_pixels((width, height))
    return image


def _decode(image: Image.Image) -> Image.Image:
    """Decoded, upright, in RGB(A) or L, with no metadata of the original."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            if upright.mode not in ("RGB", "RGBA", "L"):
                has_alpha = "A" in upright.mode or "transparency" in upright.info
                upright = upright.convert("RGBA" if has_alpha else "RGB")
            upright.thumbnail((max_edge(), max_edge()), Image.Resampling.LANCZOS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(image.size) from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise AttachmentRefused("图片已损坏,无法打开。", checks.DAMAGED) from error
    bare = Image.new(upright.mode, upright.size)  # a fresh image: empty info, no EXIF
    bare.paste(upright)
    return bare


def _encode(image: Image.Image, file_type: FileType, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    options = {"icc_profile": icc} if icc else {}
    if file_type is JPEG:
        if image.mode == "RGBA":
            image = _on_white(image)
        image.save(out, "JPEG", quality=85, optimize=True, **options)
    elif file_type is WEBP:
        image.save(out, "WEBP", quality=85, **options)
    else:
        image.save(out, "PNG", optimize=True, **options)
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((thumb_edge(), thumb_edge()), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        thumb = _on_white(thumb)
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def reencode(data: bytes, file_type: FileType) -> Picture:
    """The picture as it is stored, with its thumbnail; AttachmentRefused if it cannot be."""
    image = _open(data, file_type)
    icc = image.info.get("icc_profile") or None
    bare = _decode(image)
    stored_as = STORED_AS[file_type.key]
    return Picture(
        content=_encode(bare, stored_as, icc),
        file_type=stored_as,
        width=bare.width,
        height=bare.height,
        thumbnail=_thumbnail(bare),
    )
