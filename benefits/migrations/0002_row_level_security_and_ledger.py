"""Row-level security on every benefits table, and the fund ledger's rules in the database:
an entry moves its fund's balance in the same statement (so two expenses racing serialize on the
fund row and the CHECK fund_balance_not_negative refuses the one that would overdraw it), entries
are never updated or deleted, and a balance is never set by hand."""

from django.db import migrations

from associations.rls import enable_row_level_security

LEDGER_SQL = """
CREATE FUNCTION benefits_fund_entry_post() RETURNS trigger AS $$
BEGIN
    UPDATE benefits_fund
       SET balance = balance + CASE WHEN NEW.direction = 'income' THEN NEW.amount
                                    ELSE -NEW.amount END
     WHERE id = NEW.fund_id AND county_id = NEW.county_id
    RETURNING balance INTO NEW.balance_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fund % not found in county %', NEW.fund_id, NEW.county_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER fund_entry_post BEFORE INSERT ON benefits_fundentry
    FOR EACH ROW EXECUTE FUNCTION benefits_fund_entry_post();

CREATE FUNCTION benefits_fund_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'fund ledger entries are append-only: post a reversing entry'
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER fund_entry_append_only BEFORE UPDATE OR DELETE ON benefits_fundentry
    FOR EACH ROW EXECUTE FUNCTION benefits_fund_entry_append_only();

CREATE FUNCTION benefits_fund_balance_from_ledger() RETURNS trigger AS $$
BEGIN
    -- Only the ledger's own trigger (depth 2) may move a balance.
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'a fund balance moves only through ledger entries'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER fund_balance_from_ledger BEFORE UPDATE ON benefits_fund
    FOR EACH ROW EXECUTE FUNCTION benefits_fund_balance_from_ledger();
"""

LEDGER_REVERSE_SQL = """
DROP TRIGGER IF EXISTS fund_balance_from_ledger ON benefits_fund;
DROP FUNCTION IF EXISTS benefits_fund_balance_from_ledger();
DROP TRIGGER IF EXISTS fund_entry_append_only ON benefits_fundentry;
DROP FUNCTION IF EXISTS benefits_fund_entry_append_only();
DROP TRIGGER IF EXISTS fund_entry_post ON benefits_fundentry;
DROP FUNCTION IF EXISTS benefits_fund_entry_post();
"""


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]

    operations = [
        enable_row_level_security(
            "benefits_program",
            "benefits_programrate",
            "benefits_enrollment",
            "benefits_enrollmentevent",
            "benefits_publicnotice",
            "benefits_objection",
            "benefits_reconfirmation",
            "benefits_bankaccount",
            "benefits_disbursementbatch",
            "benefits_disbursement",
            "benefits_fund",
            "benefits_fundentry",
            "benefits_loan",
            "benefits_installment",
            "benefits_repayment",
        ),
        migrations.RunSQL(LEDGER_SQL, LEDGER_REVERSE_SQL),
    ]
