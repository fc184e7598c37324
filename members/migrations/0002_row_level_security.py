from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        enable_row_level_security(
            "members_member",
            "members_grouprole",
            "members_contacthousehold",
            "members_pairing",
            "members_commendation",
            "members_volunteerteam",
            "members_volunteermembership",
            "members_seatholder",
        )
    ]
