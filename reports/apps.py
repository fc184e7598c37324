from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "考核与报表"

    def ready(self):
        from . import runs

        runs.register_family()
