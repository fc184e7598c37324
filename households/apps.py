from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = "人员与家庭"

    def ready(self):
        from associations.history import register_redactor

        from .masking import id_number_for, phone_for

        # The change history is a list: masked for every role (a full number is shown, and
        # recorded, on the detail page only; households.masking).
        def id_number(user, value):
            return id_number_for(user, value, detail=False)

        def phone(user, value):
            return phone_for(user, value, detail=False)

        def birth_date(user, value):
            return "****-**-**"  # in the ID number: with the region code it would undo the mask

        register_redactor("households.Person", "birth_date", birth_date)
        register_redactor("households.Person", "id_number", id_number)
        register_redactor("households.Person", "phone", phone)
        register_redactor("households.Household", "phone", phone)

        from . import imports  # noqa: F401  (registers the household roster's import kind)
