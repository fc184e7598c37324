"""Files holding personal data are readable by the app's own account only: uploads and
error workbooks (through Django's storage) and exported rosters (written by openpyxl) are
0600, in folders that are 0700."""

import stat
from pathlib import Path

import pytest

from associations import export_jobs, jobs
from associations.files import private_folder
from associations.scope import Scope, activate

from ..members.test_import import person_row
from .test_job_retention import bad_row, checked_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def folders_between(path: Path, root: Path) -> list[Path]:
    return [p for p in Path(path).parents if root in p.parents or p == root]


def test_uploads_and_error_workbooks_are_private(world, media_root):
    job = checked_job(world.a.users["village_secretary"], [person_row(1), bad_row(2)])
    files = [p for p in jobs.folder(job).rglob("*") if p.is_file()]
    assert len(files) == 3  # the upload and its error workbook, full and masked (issue 12)
    for path in files:
        name = path.name
        assert mode(path) == 0o600, name
        assert {mode(folder) for folder in folders_between(path, media_root)} == {0o700}


def test_exported_rosters_are_private(world, media_root):
    user = world.a.users["village_secretary"]
    with activate(Scope.for_node(user.node)):
        job = export_jobs.request(actor=user, node=user.node, kind="members", full_identity=False)
        job = export_jobs.start(job)
    path = export_jobs.output(job)
    assert path.exists() and mode(path) == 0o600
    assert {mode(folder) for folder in folders_between(path, media_root)} == {0o700}


def test_private_folder_makes_every_missing_parent_private(media_root):
    media_root.mkdir(mode=0o755)
    folder = private_folder(media_root / "a" / "b" / "c")
    assert [mode(media_root / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(media_root) == 0o755  # what exists is left as the operator set it
    assert folder.is_dir()
