"""Files that hold personal data (uploaded rosters, error workbooks, exported rosters): only
the account the app runs as may read them. Django's storage applies FILE_UPLOAD_PERMISSIONS
and FILE_UPLOAD_DIRECTORY_PERMISSIONS (settings) to what it saves; files written by other
means (openpyxl saving a roster to a path) go through these two helpers."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def private_folder(folder: Path) -> Path:
    """Create `folder` and any missing parents down from MEDIA_ROOT (itself included), each
    readable by the owner only (Path.mkdir gives parents the default mode whatever `mode`
    says); folders that exist already keep the mode the operator gave them."""
    root = Path(settings.MEDIA_ROOT).resolve()
    folder = Path(folder)
    missing = []
    current = folder.resolve()
    while not current.exists() and (current == root or root in current.parents):
        missing.append(current)
        current = current.parent
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, PRIVATE_FOLDER_MODE)
    return folder


def make_private(path: Path) -> Path:
    os.chmod(path, PRIVATE_FILE_MODE)
    return path
