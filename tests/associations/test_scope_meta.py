"""Meta-tests: nothing in the project's apps escapes the scope mechanism unnoticed."""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import UniqueConstraint

from associations.models import ScopedModel

PROJECT_APPS = ["associations", "households", "members", "activities", "benefits", "reports"]

# Models that are not scoped, each with the reason. A new unscoped model must be added here.
UNSCOPED_MODEL_ALLOWLIST = {
    "associations.User": "sign-in looks users up by name before any scope exists; user lists "
    "go through selectors.staff_list, which filters by the actor's subtree",
    # account security (issue 12)
    "associations.ApiToken": "a personal API token is found by its hash while authenticating, "
    "before any scope exists (as its account is); pages list only the signed-in account's own "
    "tokens. (Other systems' API keys, bound to a node, are scoped: associations.ApiKey.)",
}

# The only files that may call unscoped(...). See associations.scope.UnscopedReason.
UNSCOPED_CALL_ALLOWLIST = {
    "associations/scope.py",  # the definition
    "associations/services.py",  # county_create: tenant creation
    "associations/middleware.py",  # the platform operator's pages
    "associations/management/base.py",  # resolving a command's --county
    "associations/tasks.py",  # celery beat fan-out: one scoped task per county
    "associations/job_migration.py",  # data migration: the retired job models onto Job
    "tests/associations/test_job_migration.py",  # old rows, then the migrated ones
    "tests/conftest.py",  # the two-county test world
    "tests/test_isolation.py",  # finding every foreign row across both counties
    "tests/associations/test_scope.py",  # tests of unscoped itself
    "tests/associations/test_all_counties.py",  # unscoped() on the all-counties connection
    # encryption at rest: re-encrypting every county's identifiers under the current key
    "associations/management/commands/rotate_keys.py",
    "tests/households/test_encryption_at_rest.py",  # reading the tables as stored
}

BYPASSES = re.compile(r"\bunscoped\(|_base_manager|objects_unfiltered|\.raw\(|cursor\(\)")
BYPASS_ALLOWLIST = UNSCOPED_CALL_ALLOWLIST | {
    "associations/services.py",  # cursor(): nextval on the id sequence only
    # cursor(): ids from the sequence, COPY into a staging table, INSERT … SELECT; every row
    # is checked against the active scope first, and row-level security checks the INSERT
    "associations/bulk.py",
    "associations/rls.py",  # cursor(): set_config of the row-level-security setting
    "associations/management/commands/grant_app_role.py",  # cursor(): role DDL and grants
    "tests/associations/test_rls.py",  # raw SQL proving the policies beneath the ORM
    # cursor(): reads the row-level-security setting an API key's request entered (issue 12)
    "tests/associations/test_accounts_security.py",
    # cursor(): ids from the sequence, COPY, deferred FK checks, ANALYZE (the demo seeds)
    "associations/demo_copy.py",
    # cursor(): EXPLAIN ANALYZE of a captured, scoped SELECT
    "households/management/commands/benchmark_registry.py",
    "associations/demo.py",  # cursor(): ANALYZE of the tables the seed wrote
    "members/management/commands/benchmark_lists.py",  # cursor(): the connection's role
    # cursor(): the floor's COPY of the file's rows into a temporary table (no county data)
    "members/management/commands/benchmark_import.py",
    "tests/members/test_lists.py",  # cursor(): the planner's statistics after seeding
    # cursor(): the floors' hand-written SQL, on the scoped connection (row-level security)
    "activities/management/commands/benchmark_activities.py",
    # cursor(): raw SQL proving the published-snapshot triggers as a non-owner role
    "tests/reports/test_runs.py",
    # cursor(): the hand-written SQL floor of each indicator family, on the scoped connection
    "reports/management/commands/benchmark_reports.py",
    # cursor(): the hand-written SQL floor of the candidates' counts and first page, on the
    # scoped connection (row-level security), and EXPLAIN ANALYZE of a captured scoped SELECT
    "benefits/management/commands/benchmark_candidates.py",
    # cursor(): SET CONSTRAINTS ALL IMMEDIATE before migrating the test database back and forth
    "tests/associations/test_sources.py",
    # cursor(): the payments floors' raw SQL on the scoped connection (row-level security): a
    # batch made and confirmed inside a transaction rolled back, the files' rows read; the
    # command asks the same cursor which role it runs as
    "benefits/management/payment_floors.py",
    "benefits/management/commands/benchmark_payments.py",
    # cursor(): encryption at rest, batches of encrypted columns rewritten by id (the data
    # migration and rotate_keys, both under unscoped)
    "associations/reencrypt.py",
}


def _python_files():
    root = Path(settings.BASE_DIR)
    for top in [*PROJECT_APPS, "config", "tests"]:
        for path in (root / top).rglob("*.py"):
            if "migrations" not in path.parts:
                yield root, path


def test_every_model_is_scoped_or_allowlisted():
    offenders = [
        model._meta.label
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if not issubclass(model, ScopedModel) and model._meta.label not in UNSCOPED_MODEL_ALLOWLIST
    ]
    assert offenders == []


def test_scope_bypasses_appear_only_in_listed_places():
    offenders = []
    for root, path in _python_files():
        relative = path.relative_to(root).as_posix()
        if relative == "tests/associations/test_scope_meta.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BYPASSES.search(line) and relative not in BYPASS_ALLOWLIST:
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_unique_constraints_of_county_data_carry_the_county_key():
    offenders = []
    for model in apps.get_models():
        if not issubclass(model, ScopedModel):
            continue
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", None)
            if (
                fields
                and isinstance(constraint, UniqueConstraint)
                and "county" not in fields
                and constraint.name != "association_county_code_unique"
            ):
                offenders.append(f"{model._meta.label}.{constraint.name}")
        for together in model._meta.unique_together:
            if "county" not in together:
                offenders.append(f"{model._meta.label} unique_together {together}")
    assert offenders == []
