from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "考核与报表"

    def ready(self):
        from . import (
            benefit_indicators,  # noqa: F401 (registers the care-subsidy indicators)
            runs,
        )

        runs.register_family()
        from associations import period_locks

        from .periods_services import locked_spans

        period_locks.register(locked_spans)
