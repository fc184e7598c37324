"""Change records' sources move from free text ("request <id> <METHOD> <path>", "task <name>
<id>", "command <name>") to "<kind>:<detail>" (associations/sources.py), which pages show in
Chinese. Row-level security applies to the table's owner too, so the statements run with the
policy setting at 'all' for this transaction only."""

from django.db import migrations

ALL_COUNTIES = "SELECT set_config('app.county_id', 'all', true);"
TABLE = "associations_changerecord"

FORWARD = [
    ALL_COUNTIES,
    f"UPDATE {TABLE} SET source = left(regexp_replace(source, "
    r"'^request (\S+) (\S+) (.*)$', "
    r"CASE WHEN source ~ '^request \S+ \S+ /api/' THEN 'api:\2 \3 #\1' ELSE 'page:\2 \3 #\1' END"
    "), 200) WHERE source ~ '^request \\S+ \\S+ ';",
    f"UPDATE {TABLE} SET source = left(regexp_replace(source, "
    r"'^task (\S+) (.*)$', 'task:\1 #\2'), 200) WHERE source ~ '^task \S+ ';",
    f"UPDATE {TABLE} SET source = regexp_replace(source, '^command ', 'command:') "
    "WHERE source LIKE 'command %';",
]

BACKWARD = [
    ALL_COUNTIES,
    f"UPDATE {TABLE} SET source = left(regexp_replace(source, "
    r"'^(?:page|api):(\S+) (.*) #(\S+)$', 'request \3 \1 \2'), 200) "
    "WHERE source ~ '^(page|api):';",
    f"UPDATE {TABLE} SET source = left(regexp_replace(source, "
    r"'^task:(\S+) #(.*)$', 'task \1 \2'), 200) WHERE source LIKE 'task:%';",
    f"UPDATE {TABLE} SET source = regexp_replace(source, '^command:', 'command ') "
    "WHERE source LIKE 'command:%';",
    f"UPDATE {TABLE} SET source = regexp_replace(source, '^import:', 'import ') "
    "WHERE source LIKE 'import:%';",
]


class Migration(migrations.Migration):
    dependencies = [("associations", "0005_file_retention")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
