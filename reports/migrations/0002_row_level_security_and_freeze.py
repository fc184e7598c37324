"""Row-level security on the scheme tables, and the triggers that keep a version that was put
in use unchanged: its indicators refuse INSERT, UPDATE and DELETE once the version is no
longer a draft, and the version itself refuses every change but in use → retired (state and
retired_at). SQLSTATE 23001 (restrict_violation): Django raises IntegrityError."""

from django.db import migrations

from associations.rls import enable_row_level_security

FORWARD = r"""
CREATE FUNCTION reports_refuse_frozen_version() RETURNS trigger AS $$
BEGIN
    IF OLD.state = 'draft' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.state = 'in_use' AND NEW.state IN ('in_use', 'retired')
       AND (to_jsonb(NEW) - 'state' - 'retired_at') = (to_jsonb(OLD) - 'state' - 'retired_at')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'scheme version % is % and cannot be changed', OLD.id, OLD.state
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER reports_schemeversion_frozen
    BEFORE UPDATE OR DELETE ON reports_schemeversion
    FOR EACH ROW EXECUTE FUNCTION reports_refuse_frozen_version();

CREATE FUNCTION reports_refuse_frozen_indicator() RETURNS trigger AS $$
DECLARE
    version_state text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT state INTO version_state FROM reports_schemeversion WHERE id = OLD.version_id;
        IF version_state IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'indicator % belongs to a version that is not a draft', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT state INTO version_state FROM reports_schemeversion WHERE id = NEW.version_id;
        IF version_state IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'version % is not a draft: its indicators cannot change',
                NEW.version_id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER reports_schemeindicator_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON reports_schemeindicator
    FOR EACH ROW EXECUTE FUNCTION reports_refuse_frozen_indicator();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS reports_schemeindicator_frozen ON reports_schemeindicator;
DROP FUNCTION IF EXISTS reports_refuse_frozen_indicator();
DROP TRIGGER IF EXISTS reports_schemeversion_frozen ON reports_schemeversion;
DROP FUNCTION IF EXISTS reports_refuse_frozen_version();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        enable_row_level_security(
            "reports_assessmentscheme", "reports_schemeversion", "reports_schemeindicator"
        ),
        migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD),
    ]
