"""The printable rosters (members.rosters) as the shared export machinery sees them
(associations.export_jobs): registered in MembersConfig.ready, built by the job's step into
the job's folder, every temporary file in the job's tmp/ folder."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from associations.models import Association, Job
from households.masking import sees_full_identity

from .rosters import (
    ROSTERS,
    Roster,
    association_title,
    by_village_sheets,
    roster_file_name,
    rosters_for,
    write_roster,
)

__all__ = ["ROSTERS", "RosterExport", "rosters_for"]


@dataclass(frozen=True)
class RosterExport:
    roster: Roster

    @property
    def kind(self) -> str:
        return self.roster.kind

    @property
    def title(self) -> str:
        return self.roster.title

    @property
    def levels(self) -> frozenset[str]:
        return self.roster.levels

    def count(self, node: Association) -> int:
        return self.roster.count(node)

    def file_name(self, node: Association, on: datetime.date) -> str:
        return roster_file_name(self.roster, node, on)

    def params(self, node: Association) -> dict:
        return {"layout": "village_sheets" if by_village_sheets(node) else "group_sections"}

    def write(self, job: Job, path: Path, *, progress, work_dir: Path) -> int:
        return write_roster(
            self.roster,
            job.node,
            path,
            full_identity=job.full_identity and sees_full_identity(job.owner),
            made_by=made_by(job),
            progress=progress,
            work_dir=work_dir,
            actor=job.owner,
        )


def made_by(job: Job) -> str:
    """The unit of the one who asked, named on the sheet as its maker."""
    user = job.owner
    unit = Association.objects.filter(pk=user.node_id).select_related("parent").first()
    return association_title(unit or job.node)
