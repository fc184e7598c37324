"""Where attachment files live: MEDIA_ROOT/attachments/<county id>/<year>/<random>.<ext>, the
folders 0700 and the files 0600 (associations.files), under a random name that says nothing
of the file or its owner. The path kept on the row is relative to MEDIA_ROOT; the type's
extension comes from the sniffed type, never from the uploaded name."""

from __future__ import annotations

import contextlib
import os
import secrets
import unicodedata
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..files import PRIVATE_FILE_MODE, private_folder

ROOT = "attachments"
MAX_NAME = 100


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def new_stem(county_id: int) -> str:
    """A fresh relative path without extension, in the county's folder for this year."""
    year = timezone.localdate().year
    return f"{ROOT}/{county_id}/{year}/{secrets.token_urlsafe(18)}"


def write(relative: str, content: bytes) -> Path:
    """Write a new private file (never over an existing one)."""
    path = media_root() / relative
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(path, PRIVATE_FILE_MODE)  # whatever the umask made of it
    return path


def resolve(relative: str) -> Path | None:
    """The absolute path of a stored file, or None if it is not a file under the attachments
    folder (a tampered or missing path is the same as no file)."""
    if not relative:
        return None
    root = (media_root() / ROOT).resolve()
    path = (media_root() / relative).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def remove(*relatives: str) -> None:
    for relative in relatives:
        path = resolve(relative)
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def display_name(uploaded: str, extension: str) -> str:
    """The uploaded name as a label: no folders, no control or format characters, at most
    MAX_NAME characters, and the extension of the type the file really is."""
    name = (uploaded or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    name = " ".join(name.split()).strip(". ")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(". ")[: MAX_NAME - len(extension) - 1] or "附件"
    return f"{stem}.{extension}"
