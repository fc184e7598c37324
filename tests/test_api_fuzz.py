"""Every API operation fuzzed with schemathesis, inside pytest, against the app in-process and
the test database's two-county world, with a county admin's API token (bound to his county):
no input may answer 5xx, and every answer must be documented in the OpenAPI schema (status
code, content type and body). Bounded and derandomized so that CI is stable and takes a few
minutes; deselect locally with `-m "not fuzz"`, run longer by hand with
`FUZZ_MAX_EXAMPLES=100 pytest -m fuzz`.

Each generated request runs in a savepoint rolled back after it, so writes (POST, PATCH and
DELETE are fuzzed too) never leak into the next example or test. Path ids are aimed at real
rows (of both counties: another county's row must be a 404), the reports app's too (runs,
periods, submissions and their attachments), and so are the ids a body or a query refers to
(a submission's manual scores among them), so that operations reach their code and not only
the 404."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from activities.models import Activity, ActivityAttachment, HomeVisit
from associations.accounts.services import token_create
from associations.models import Association, Council, CouncilSeat
from benefits.models import (
    BankAccount,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    Fund,
    FundEntry,
    Loan,
    Objection,
    Program,
    PublicNotice,
    Reconfirmation,
)
from households.models import Household, Person
from members.models import (
    Commendation,
    ContactHousehold,
    GroupRole,
    Member,
    Pairing,
    VolunteerTeam,
)
from reports.models import (
    AssessmentPeriod,
    ManualScore,
    ReportRun,
    Submission,
    SubmissionAttachment,
)
from tests.openapi import built_schema

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Generated cases per operation in the fuzzing phase (the coverage phase adds its own
# boundary cases); sized so this file stays within about three minutes on two cores.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))

# The document /api/schema/ serves (to signed-in users only), built in-process; calls go to
# the app in-process.
schema = schemathesis.openapi.from_dict(
    built_schema(),
    config=SchemathesisConfig.from_dict(
        {
            "seed": 2026,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "suppress-health-check": ["too_slow", "filter_too_much"],
        }
    ),
)
schema.app = get_wsgi_application()
schema.location = "/api/schema/"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]

# The collection each `{id}` path names, first segment after /api/v1/.
RESOURCES = {
    "associations": Association,
    "councils": Council,
    "council-seats": CouncilSeat,
    "households": Household,
    "persons": Person,
    "members": Member,
    "group-roles": GroupRole,
    "contact-households": ContactHousehold,
    "pairings": Pairing,
    "commendations": Commendation,
    "volunteer-teams": VolunteerTeam,
    "activities": Activity,
    "visits": HomeVisit,
    "activity-attachments": ActivityAttachment,
    # the reports app's collections sit one segment deeper (/api/v1/reports/<name>/{id}/)
    "reports/runs": ReportRun,
    "reports/periods": AssessmentPeriod,
    "reports/submissions": Submission,
    # the benefits app's collections sit one segment deeper too (/api/v1/benefits/<name>/{id}/)
    "benefits/funds": Fund,
    "benefits/fund-entries": FundEntry,
    "benefits/loans": Loan,
    # care subsidies: payments (/api/v1/benefits/<name>/{id}/), and the programmes their
    # queries name
    "benefits/bank-accounts": BankAccount,
    "benefits/batches": DisbursementBatch,
    "benefits/disbursements": Disbursement,
    "benefits/programs": Program,
    "benefits/enrollments": Enrollment,
    "benefits/notices": PublicNotice,
    "benefits/objections": Objection,
    # so do the benefits app's (/api/v1/benefits/<name>/{id}/)
    "benefits/reconfirmations": Reconfirmation,
}
# Other path parameters that name a row, and the model they name.
PATH_REFERENCES = {"attachment_pk": SubmissionAttachment}
# Lists of {"id": …} in bodies whose ids name a row (a submission's manual scores).
NESTED_REFERENCES = {"scores": ManualScore}


@pytest.fixture
def in_process_requests():
    """Django's test client does the same: the end of a request must not close the
    connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(world, in_process_requests) -> dict:
    _token, raw = token_create(actor=world.a.users["county_admin"])
    return {"Authorization": f"Token {raw}"}


# Integer fields of bodies and queries that name a row, and the collection they name.
REFERENCES = {
    "household": "households",
    "to_household": "households",
    "person": "persons",
    "mother": "persons",
    "head": "persons",
    "member": "members",
    "visitor": "members",
    "council": "councils",
    "village": "villages",
    "to_village": "villages",
    "association": "villages",
    "group": "groups",
    "to_group": "groups",
    "node": "associations",
    "root": "associations",
    "under": "associations",
    "parent": "associations",
    "new_parent": "associations",
    "run": "reports/runs",
    "fund": "benefits/funds",
    "to_fund": "benefits/funds",
    "batch": "benefits/batches",
    "program": "benefits/programs",
}


@pytest.fixture
def payment_rows(world):
    """Care-subsidy payments to aim at (the shared world has none): tests/benefits."""
    from tests.benefits.factories_payments import payment_world

    return payment_world(world)


@pytest.fixture
def row_ids(world, payment_rows) -> dict[str, list[int]]:
    """Each collection's ids, county A's (in scope) then county B's (a 404)."""
    models = {**RESOURCES, **PATH_REFERENCES, **NESTED_REFERENCES}
    ids = {name: [] for name in [*models, "villages", "groups"]}
    for county in (world.a, world.b):
        with county.scope():
            for name, model in models.items():
                ids[name] += list(model.objects.order_by("pk").values_list("pk", flat=True))
        ids["villages"] += [v.pk for v in county.villages]
        ids["groups"] += [g.pk for g in county.groups]
    return ids


def _row(value, rows):
    """A generated non-negative integer (or its digits, as paths carry it) becomes one of the
    rows, chosen by its value so the run stays deterministic; anything else (negative, not a
    number) stays as generated."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return str(_row(int(value), rows))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or not rows:
        return value
    return rows[value % len(rows)]


def aim_at_rows(case, row_ids) -> None:
    """Path ids, and the body's and query's references, aimed at real rows."""
    segments = case.path.split("/")
    collection = segments[3]
    if collection in ("reports", "benefits"):
        collection = f"{collection}/{segments[4]}"
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = _row(case.path_parameters["id"], row_ids.get(collection))
    for name in PATH_REFERENCES:
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = _row(case.path_parameters[name], row_ids[name])
    if isinstance(case.body, dict):
        for name in NESTED_REFERENCES:
            items = case.body.get(name)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and "id" in item:
                    item["id"] = _row(item["id"], row_ids[name])
    for values in (case.query, case.body):
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            target = REFERENCES.get(name)
            if name == "parent" and collection == "volunteer-teams":
                target = "volunteer-teams"
            if target:
                values[name] = _row(value, row_ids[target])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Examples share the test's fixtures on purpose: each one is rolled back below.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_input_answers_5xx_and_every_answer_is_documented(case, auth_header, row_ids):
    aim_at_rows(case, row_ids)
    with transaction.atomic():
        response = case.call(headers=auth_header)
        case.validate_response(response, checks=CHECKS)
        transaction.set_rollback(True)
