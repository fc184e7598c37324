from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "会员"

    def ready(self):
        from associations import export_jobs

        from . import imports  # noqa: F401  (registers the members roster's import kind)
        from .exports import ROSTERS, RosterExport

        for roster in ROSTERS.values():
            export_jobs.register(RosterExport(roster))
