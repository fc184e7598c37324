from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = "人员与家庭"

    def ready(self):
        from associations.history import register_redactor

        from .masking import id_number_for, phone_for

        def id_number(user, value):
            return id_number_for(user, value, detail=True)

        def phone(user, value):
            return phone_for(user, value, detail=True)

        register_redactor("households.Person", "id_number", id_number)
        register_redactor("households.Person", "phone", phone)
        register_redactor("households.Household", "phone", phone)

        from . import imports  # noqa: F401  (registers the household roster's import kind)
