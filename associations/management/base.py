"""Management commands that touch county data take --county (the county's division code)
and run inside that county's scope."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from .. import history, sources
from ..models import Association, Level
from ..scope import Scope, UnscopedReason, activate, unscoped


def find_county(code: str) -> Association | None:
    with unscoped(reason=UnscopedReason.COMMAND_COUNTY_LOOKUP):
        return Association.objects.filter(level=Level.COUNTY, division_code=code).first()


class ScopedCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="县的区划代码(6 位)")

    def execute(self, *args, **options):
        county = find_county(options["county"])
        if county is None:
            raise CommandError(f"没有区划代码为 {options['county']} 的县。")
        options["county_node"] = county
        with (
            activate(Scope.for_node(county)),
            history.change_source(sources.for_command(self.__module__.rsplit(".", 1)[-1])),
        ):
            return super().execute(*args, **options)
