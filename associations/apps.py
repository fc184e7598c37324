from django.apps import AppConfig


class AssociationsConfig(AppConfig):
    name = "associations"
    verbose_name = "组织与账号"

    def ready(self):
        from . import lookups  # noqa: F401  (registers the `prefix` lookup)
