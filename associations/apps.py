from django.apps import AppConfig


class AssociationsConfig(AppConfig):
    name = "associations"
    verbose_name = "组织与账号"

    def ready(self):
        from . import (
            all_counties,  # noqa: F401  (registers its deploy check)
            export_jobs,
            jobs,
            lookups,  # noqa: F401  (registers the `prefix` lookup)
        )
        from .imports import jobs as import_jobs
        from .imports import views as import_views

        jobs.register(
            jobs.Family(
                name=import_jobs.FAMILY,
                handler=import_jobs.handle,
                may_see=import_jobs.may_see,
                template="jobs/import.html",
                background=import_jobs.runs_in_background,
                context=import_views.page_context,
            )
        )
        jobs.register(
            jobs.Family(
                name=export_jobs.FAMILY,
                handler=export_jobs.handle,
                may_see=export_jobs.may_see,
                template="jobs/export.html",
                background=export_jobs.runs_in_background,
            )
        )
