from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "会员"

    def ready(self):
        from . import imports  # noqa: F401  (registers the members roster's import kind)
