"""The isolation suite: every URL pattern and API route, every role. Another county's objects
and a sibling subtree's objects are invisible (404) and cannot be written or referenced.

ROUTES must name every route the project has: a new route that is not in the matrix fails
`test_matrix_covers_every_route`, so whoever adds a route decides here how it is isolated.
Foreign objects are found generically: for the model a route's `pk` names, every row of the
other county and every row of the user's own county outside the user's subtree (by the
row's ancestor key), sampled. Two kinds of rows are reached beyond the subtree: the county's
funds (COUNTY_WIDE: every account of the county reads them) and disbursement batches made
above the user's node that cover it (COVERING: a village reads its part of a county batch);
a batch of a sibling subtree stays foreign."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import pytest
from django.apps import apps
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from associations.scope import UnscopedReason, unscoped

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    model: str | None = None  # the model its `pk` names; None: the route takes no object
    api: bool = False
    get: bool = True  # False: a POST-only route (GET is 405 whatever the object)
    writes: tuple[str, ...] = ()  # methods that write: each must be 404 on a foreign object
    kwargs: tuple[tuple[str, str], ...] = ()  # other URL arguments besides pk


def page(model=None, *, get=True, post=False, **kwargs) -> Route:
    return Route(
        model=model, get=get, writes=("post",) if post else (), kwargs=tuple(kwargs.items())
    )


def api(model=None, *writes: str, get=True) -> Route:
    return Route(model=model, api=True, get=get, writes=writes)


NODE = "associations.Association"
COUNCIL = "associations.Council"
SEAT = "associations.CouncilSeat"
HOUSEHOLD = "households.Household"
PERSON = "households.Person"
MEMBER = "members.Member"
GROUP_ROLE = "members.GroupRole"
CONTACT = "members.ContactHousehold"
PAIRING = "members.Pairing"
COMMENDATION = "members.Commendation"
TEAM = "members.VolunteerTeam"
JOB = "associations.Job"
ACTIVITY = "activities.Activity"
VISIT = "activities.HomeVisit"
ACTIVITY_FILE = "activities.ActivityAttachment"
HOUSEHOLD_FILE = "households.HouseholdAttachment"
COUNCIL_FILE = "associations.CouncilAttachment"
VERSION = "reports.SchemeVersion"
INDICATOR = "reports.SchemeIndicator"
RUN = "reports.ReportRun"
SNAPSHOT_NODE = "reports.SnapshotNode"
PERIOD = "reports.AssessmentPeriod"
SUBMISSION = "reports.Submission"
SUBMISSION_FILE = "reports.SubmissionAttachment"
FUND = "benefits.Fund"
FUND_ENTRY = "benefits.FundEntry"
LOAN = "benefits.Loan"

# Models whose rows sit at the county node and that every account of the county reads (the
# county's funds): only another county's rows are foreign to them.
COUNTY_WIDE = {FUND}
ENROLLMENT = "benefits.Enrollment"
BANK_ACCOUNT = "benefits.BankAccount"
BATCH = "benefits.DisbursementBatch"
LINE = "benefits.Disbursement"
NOTICE = "benefits.PublicNotice"
OBJECTION = "benefits.Objection"
PROGRAM = "benefits.Program"
RECONFIRMATION = "benefits.Reconfirmation"

# Models whose rows the user also reaches when they sit at an ancestor of the user's node (a
# batch made by the county or the township covers the villages below it).
COVERING = {BATCH}

ROUTES: dict[str, Route] = {
    # accounts and platform
    "home": page(),
    "login": page(),
    "logout": page(),
    "password_change": page(),
    "password_change_done": page(),
    "staff-list": page(),
    "staff-create": page(),
    # account security (issue 12): a user id outside the admin's county and another
    # account's token are 404 (tests/associations/test_accounts_security.py); API keys sit
    # at their node like county rows
    "staff-unlock": page(get=False),
    "account": page(),
    "account-token-revoke": page(get=False),
    "api-keys": page(),
    "api-key-revoke": page("associations.ApiKey", get=False, post=True),
    "platform-counties": page(),
    "platform-county-create": page(),
    # care subsidies
    "benefits-home": page(),
    # care subsidies: funds and loans (funds are COUNTY_WIDE; their ledger entries are read
    # by the county's accounts only, so any entry is foreign below the county; loans sit at
    # the borrower's village)
    "fund-list": page(),
    "fund-create": page(),
    "fund-detail": page(FUND),
    "fund-edit": page(FUND, post=True),
    "fund-income-government": page(FUND, post=True),
    "fund-income-donation": page(FUND, post=True),
    "fund-income-other": page(FUND, post=True),
    "fund-expense-assistance": page(FUND, post=True),
    "fund-transfer": page(FUND, post=True),
    "fund-entry-reverse": page(FUND_ENTRY, post=True),
    "loan-list": page(),
    "loan-overdue": page(),
    "loan-issue": page(),
    "loan-detail": page(LOAN),
    "loan-repay": page(LOAN, post=True),
    "loan-void": page(LOAN, post=True),
    # care subsidies: payments (batches sit at the node they cover, lines and accounts at the
    # beneficiary's village; the rows come from tests/benefits/factories_payments.py)
    "person-bank-accounts": page(PERSON),
    "bank-account-create": page(PERSON, post=True),
    "bank-account-detail": page(BANK_ACCOUNT),
    "bank-account-deactivate": page(BANK_ACCOUNT, get=False, post=True),
    "enrollment-payee": page(ENROLLMENT, post=True),
    "payment-batch-list": page(),
    "payment-batch-create": page(),
    "payment-batch-detail": page(BATCH),
    "payment-batch-confirm": page(BATCH, get=False, post=True),
    "payment-batch-pay": page(BATCH, post=True),
    "payment-batch-cancel": page(BATCH, get=False, post=True),
    "payment-batch-reissue": page(BATCH, get=False, post=True),
    "payment-batch-bank-file": page(BATCH, get=False, post=True),
    "payment-batch-receipts": page(BATCH),
    "payment-batch-returns": page(BATCH, post=True),
    "payment-line-fail": page(LINE, post=True),
    "payment-totals": page(),
    # care subsidies: workflow (enrolments, notices at a village or township, objections); a
    # foreign node chosen on notice-create is an invalid choice (tests/benefits)
    "enrollment-list": page(),
    "enrollment-todo": page(),
    "enrollment-detail": page(ENROLLMENT),
    "enrollment-objection": page(ENROLLMENT, get=False, post=True),
    "enrollment-review": page(ENROLLMENT, get=False, post=True),
    "enrollment-return": page(ENROLLMENT, get=False, post=True),
    "enrollment-approve": page(ENROLLMENT, get=False, post=True),
    "enrollment-exit": page(ENROLLMENT, get=False, post=True),
    "objection-resolve": page(OBJECTION, get=False, post=True),
    "notice-list": page(),
    "notice-create": page(),
    "notice-detail": page(NOTICE),
    "notice-sheet": page(NOTICE),
    # care subsidies: programmes (at the county node: a programme's own page is a county
    # account's, 404 below the county; everyone reads the list), candidates and applications
    # at a node of the subtree, the annual re-confirmation
    "benefit-program-list": page(),
    "benefit-program-create": page(),
    "benefit-program-edit": page(PROGRAM, post=True),
    "benefit-candidates": page(NODE),
    "benefit-candidates-apply": page(NODE, get=False, post=True),
    "benefit-reconfirmation-list": page(),
    "benefit-reconfirmation-run": page(get=False),
    "benefit-reconfirmation-confirm-unflagged": page(get=False),
    "benefit-reconfirmation": page(RECONFIRMATION, post=True),
    # the tree and councils
    "node-detail": page(NODE),
    "node-tree": page(NODE),
    "node-history": page(NODE),
    "node-create": page(NODE, post=True),
    "node-edit": page(NODE, post=True),
    "node-move": page(NODE, post=True),
    "council": page(NODE),
    "council-create": page(NODE, post=True),
    "council-edit": page(COUNCIL, post=True),
    "seat-create": page(COUNCIL, post=True),
    "seat-edit": page(SEAT, post=True),
    "seat-delete": page(SEAT, get=False, post=True),
    "council-attachment-upload": page(COUNCIL, post=True),  # GET leads back to the page
    "council-attachment": page(COUNCIL_FILE),
    "council-attachment-thumb": page(COUNCIL_FILE),
    "council-attachment-delete": page(COUNCIL_FILE, get=False, post=True),
    # households
    "person-list": page(),
    "person-export-csv": page(),
    "person-export-xlsx": page(),
    "household-list": page(),
    "household-export-csv": page(),
    "household-export-xlsx": page(),
    "household-detail": page(HOUSEHOLD),
    "household-edit": page(HOUSEHOLD, post=True),
    "household-move": page(HOUSEHOLD, post=True),
    "household-member-add": page(HOUSEHOLD, post=True),
    "household-hardship-record": page(HOUSEHOLD, post=True),
    "household-assistance-add": page(HOUSEHOLD, post=True),
    "household-create": page(NODE, post=True),
    "household-attachment-upload": page(HOUSEHOLD, post=True),
    "household-attachment": page(HOUSEHOLD_FILE),
    "household-attachment-thumb": page(HOUSEHOLD_FILE),
    "household-attachment-delete": page(HOUSEHOLD_FILE, get=False, post=True),
    "person-detail": page(PERSON),
    "person-edit": page(PERSON, post=True),
    "person-remove-from-household": page(PERSON, post=True),
    "person-create": page(NODE, post=True),
    # masking (issue 12): the POST-only lookup by a full number and the read log
    "person-lookup": page(),
    "identity-read-list": page(),
    "node-figures": page(NODE),
    "node-figures-export": page(NODE),
    "node-hardship": page(NODE),
    # members
    "member-list": page(),
    "member-detail": page(MEMBER),
    "member-edit": page(MEMBER, post=True),
    "member-leave": page(MEMBER, post=True),
    "member-contact-add": page(MEMBER, post=True),
    "member-pairing-start": page(MEMBER, post=True),
    "member-commendation-add": page(MEMBER, post=True),
    "member-register": page(NODE, post=True),
    "member-candidates": page(NODE),
    "contact-household-remove": page(CONTACT, post=True),
    "pairing-end": page(PAIRING, post=True),
    "group-sheet": page(NODE),
    "group-role-assign": page(NODE, post=True),
    "group-commendation-add": page(NODE, post=True),
    "group-role-end": page(GROUP_ROLE, post=True),
    "volunteer-team-list": page(NODE),
    "volunteer-team-create": page(NODE, post=True),
    "volunteer-team-join": page(TEAM, post=True),
    "seat-member": page(SEAT, post=True),
    "node-rosters": page(NODE),
    "roster-export": page(NODE, post=True, kind="members"),
    "job": page(JOB),
    "job-resend": page(JOB, get=False, post=True),
    "job-download": page(JOB),
    "import-upload": page(NODE, post=True),
    "import-template": page(),
    "import-errors": page(JOB),
    "import-commit": page(JOB, get=False, post=True),
    "import-recheck": page(JOB, get=False, post=True),
    # activities
    "node-duties": page(NODE),
    "node-duties-export": page(NODE),
    "node-activities": page(NODE),
    "leader-start": page(),
    "activity-create": page(NODE, post=True),
    "activity-detail": page(ACTIVITY),
    "activity-edit": page(ACTIVITY, post=True),
    "activity-attendees": page(ACTIVITY, post=True),
    "activity-delete": page(ACTIVITY, post=True),
    "visit-create": page(NODE, post=True),
    "visit-households": page(NODE),
    "visit-detail": page(VISIT),
    "visit-edit": page(VISIT, post=True),
    "visit-delete": page(VISIT, post=True),
    "activity-attachment-upload": page(ACTIVITY, post=True),
    "activity-attachment": page(ACTIVITY_FILE),
    "activity-attachment-thumb": page(ACTIVITY_FILE),
    "activity-attachment-delete": page(ACTIVITY_FILE, get=False, post=True),
    "node-activity-stats": page(NODE),
    "node-activity-stats-export": page(NODE),
    # reports: assessment schemes (rows at the county node: county accounts only)
    "scheme-list": page(NODE),
    "scheme-create": page(NODE, post=True),
    "scheme-create-default": page(NODE, get=False, post=True),
    "scheme-version": page(VERSION),
    "scheme-version-edit": page(VERSION, post=True),
    "scheme-version-activate": page(VERSION, get=False, post=True),
    "scheme-version-copy": page(VERSION, get=False, post=True),
    "scheme-indicator-create": page(VERSION, post=True),
    "scheme-indicator-edit": page(INDICATOR, post=True),
    "scheme-indicator-delete": page(INDICATOR, get=False, post=True),
    # reports: runs sit at the county node (county accounts only); the 考核结果 page of a
    # township reads its own snapshot rows
    "report-run-list": page(NODE),
    "report-run-create": page(NODE, get=False, post=True),
    "report-run": page(RUN),
    "report-run-publish": page(RUN, get=False, post=True),
    "report-run-compare": page(RUN),
    "report-run-sheet": page(RUN),
    "report-run-activities": page(RUN),
    "report-township-sheet": page(NODE),
    # reports: sheet 2 (county accounts, as sheet 1) and the summary paragraphs (without
    # ?node= the run's county: 404 below the county; tests/reports/test_summary.py tries a
    # township's own and sibling nodes)
    "report-run-population": page(RUN),
    "report-run-summary": page(RUN, post=True),
    "report-run-summary-docx": page(RUN),
    # reports: assessment periods (at the county node) and the villages' submissions
    # reports: targets (指标分解) of the county and township nodes
    "node-targets": page(NODE, post=True),
    # reports: group ratings (五好/五有) of a village node, the run's sheets 4 and 5
    "group-ratings": page(NODE, post=True, key="2026-Q1"),
    "report-run-groups-sheet": page(RUN),
    "report-run-pay-sheet": page(RUN),
    # reports: the assessment dashboard (考核看板) of a county or township node
    "report-dashboard": page(NODE),
    "period-list": page(NODE),
    "period-open": page(NODE, post=True),
    "period-node": page(NODE, key="2026-Q1"),
    "period-detail": page(PERIOD),
    "period-lock": page(PERIOD, get=False, post=True),
    "period-reopen": page(PERIOD, get=False, post=True),
    "submission-detail": page(SUBMISSION, post=True),
    "submission-review": page(SUBMISSION, get=False, post=True),
    "submission-attachment-upload": page(SUBMISSION, post=True),  # GET leads back to the page
    "submission-attachment": page(SUBMISSION_FILE),
    "submission-attachment-thumb": page(SUBMISSION_FILE),
    "submission-attachment-delete": page(SUBMISSION_FILE, get=False, post=True),
    # API
    "api-root": api(),
    "api-token": api(),
    "api-schema": api(),
    "api-docs": api(),
    "me-list": api(),
    "association-list": api(),
    "association-tree": api(),
    "association-detail": api(NODE, "patch"),
    "association-move": api(NODE, "post", get=False),
    "association-history": api(NODE),
    "council-list": api(),
    "council-detail": api(COUNCIL, "patch"),
    "council-seat-list": api(),
    "council-seat-detail": api(SEAT, "patch", "delete"),
    "api-person-list": api(),
    "api-person-lookup": api(),
    "api-person-detail": api(PERSON, "patch"),
    "api-person-move": api(PERSON, "post", get=False),
    "api-person-remove-from-household": api(PERSON, "post", get=False),
    "api-household-list": api(),
    "api-household-detail": api(HOUSEHOLD, "patch"),
    "api-household-move": api(HOUSEHOLD, "post", get=False),
    "api-household-hardship": api(HOUSEHOLD, "post", get=False),
    "api-household-assistance": api(HOUSEHOLD, "post", get=False),
    "api-figures-list": api(),
    "api-member-list": api(),
    "api-member-detail": api(MEMBER, "patch"),
    "api-member-leave": api(MEMBER, "post", get=False),
    "api-group-role-list": api(),
    "api-group-role-detail": api(GROUP_ROLE),
    "api-group-role-end": api(GROUP_ROLE, "post", get=False),
    "api-contact-household-list": api(),
    "api-contact-household-detail": api(CONTACT, "delete"),
    "api-pairing-list": api(),
    "api-pairing-detail": api(PAIRING),
    "api-pairing-end": api(PAIRING, "post", get=False),
    "api-commendation-list": api(),
    "api-commendation-detail": api(COMMENDATION),
    "api-volunteer-team-list": api(),
    "api-volunteer-team-detail": api(TEAM),
    "api-volunteer-team-members": api(TEAM, "post", get=False),
    "api-activity-list": api(),
    "api-activity-detail": api(ACTIVITY, "patch", "delete"),
    "api-activity-attachments": api(ACTIVITY, "post", get=False),
    "api-activity-attachment-detail": api(ACTIVITY_FILE, "delete"),
    "api-activity-attachment-download": api(ACTIVITY_FILE),
    "api-activity-attachment-thumbnail": api(ACTIVITY_FILE),
    "api-activity-by-ref": api(),  # by external reference: test_by_ref_reaches_only_the_subtree
    "api-visit-list": api(),
    "api-visit-detail": api(VISIT, "patch", "delete"),
    "api-visit-by-ref": api(),
    "api-activity-theme-list": api(),
    "api-themed-day-list": api(),
    "api-material-list": api(),
    "api-report-run-list": api(),
    "api-report-run-detail": api(RUN),
    "api-report-run-nodes": api(RUN),
    "api-report-node-list": api(),
    # reports: periods (county accounts) and submissions, with the workflow's actions
    "api-report-period-list": api(),
    "api-report-period-detail": api(PERIOD),
    "api-report-period-lock": api(PERIOD, "post", get=False),
    "api-report-period-reopen": api(PERIOD, "post", get=False),
    "api-report-submission-list": api(),
    "api-report-submission-detail": api(SUBMISSION),
    "api-report-submission-scores": api(SUBMISSION, "post", get=False),
    "api-report-submission-submit": api(SUBMISSION, "post", get=False),
    "api-report-submission-accept": api(SUBMISSION, "post", get=False),
    "api-report-submission-return": api(SUBMISSION, "post", get=False),
    # reports: a submission's evidence, under the submission (any attachment id of a foreign
    # submission is a 404; one of another submission under one's own: tests/reports)
    "api-report-submission-attachments": api(SUBMISSION, "post"),
    "api-report-submission-attachment": Route(
        model=SUBMISSION, api=True, writes=("delete",), kwargs=(("attachment_pk", "1"),)
    ),
    "api-report-submission-attachment-download": Route(
        model=SUBMISSION, api=True, kwargs=(("attachment_pk", "1"),)
    ),
    "api-report-submission-attachment-thumbnail": Route(
        model=SUBMISSION, api=True, kwargs=(("attachment_pk", "1"),)
    ),
    # care subsidies: funds and loans
    "api-fund-list": api(),
    "api-fund-detail": api(FUND),
    "api-fund-transfer": api(FUND, "post", get=False),
    "api-fund-entry-list": api(),
    "api-fund-entry-detail": api(FUND_ENTRY),
    "api-loan-list": api(),
    "api-loan-detail": api(LOAN),
    "api-loan-repayments": api(LOAN, "post", get=False),
    "api-loan-void": api(LOAN, "post", get=False),
    # care subsidies: payments (the finance system's report names lines by reference:
    # tests/benefits/test_payments_returns.py tries another county's)
    "api-bank-account-list": api(),
    "api-bank-account-detail": api(BANK_ACCOUNT),
    "api-bank-account-deactivate": api(BANK_ACCOUNT, "post", get=False),
    "api-disbursement-batch-list": api(),
    "api-disbursement-batch-detail": api(BATCH),
    "api-disbursement-list": api(),
    "api-disbursement-detail": api(LINE),
    "api-disbursement-report": api(get=False),
    "api-payment-totals-list": api(),
    # care subsidies: workflow
    "api-enrollment-list": api(),
    "api-enrollment-detail": api(ENROLLMENT),
    "api-enrollment-objections": api(ENROLLMENT, "post", get=False),
    "api-enrollment-review": api(ENROLLMENT, "post", get=False),
    "api-enrollment-return": api(ENROLLMENT, "post", get=False),
    "api-enrollment-approve": api(ENROLLMENT, "post", get=False),
    "api-enrollment-exit": api(ENROLLMENT, "post", get=False),
    "api-benefit-notice-list": api(),
    "api-benefit-notice-detail": api(NOTICE),
    "api-benefit-objection-detail": api(OBJECTION),
    "api-benefit-objection-resolve": api(OBJECTION, "post", get=False),
    # care subsidies: programmes, candidates and applications, re-confirmations
    "api-benefit-program-list": api(),
    "api-benefit-program-detail": api(PROGRAM, "patch"),
    "api-benefit-candidate-list": api(),
    "api-benefit-candidate-apply": api(get=False),
    "api-benefit-reconfirmation-list": api(),
    "api-benefit-reconfirmation-detail": api(RECONFIRMATION),
}
# List endpoints and the model each lists, for the "nothing foreign is listed" check.
API_LISTS = {
    "association-list": NODE,
    "council-list": COUNCIL,
    "council-seat-list": SEAT,
    "api-person-list": PERSON,
    "api-household-list": HOUSEHOLD,
    "api-member-list": MEMBER,
    "api-group-role-list": GROUP_ROLE,
    "api-contact-household-list": CONTACT,
    "api-pairing-list": PAIRING,
    "api-commendation-list": COMMENDATION,
    "api-volunteer-team-list": TEAM,
    "api-activity-list": ACTIVITY,
    "api-visit-list": VISIT,
    "api-report-run-list": RUN,
    "api-report-node-list": SNAPSHOT_NODE,
    "api-report-period-list": PERIOD,
    "api-report-submission-list": SUBMISSION,
    "api-fund-list": FUND,
    "api-fund-entry-list": FUND_ENTRY,
    "api-loan-list": LOAN,
    "api-bank-account-list": BANK_ACCOUNT,
    "api-disbursement-batch-list": BATCH,
    "api-disbursement-list": LINE,
    "api-enrollment-list": ENROLLMENT,
    "api-benefit-notice-list": NOTICE,
    "api-benefit-reconfirmation-list": RECONFIRMATION,
}
# List pages and the (URL prefix of detail links, model) they link to.
PAGE_LISTS: dict[str, list[tuple[str, str]]] = {
    "person-list": [("/people/", PERSON), ("/households/", HOUSEHOLD)],
    "household-list": [("/households/", HOUSEHOLD), ("/people/", PERSON)],
    "member-list": [("/members/", MEMBER)],
    "fund-list": [("/benefits/funds/", FUND)],
    "loan-list": [("/benefits/loans/", LOAN), ("/benefits/funds/", FUND)],
    "loan-overdue": [("/benefits/loans/", LOAN)],
    "payment-batch-list": [("/benefits/batches/", BATCH)],
    "enrollment-list": [("/benefits/enrollments/", ENROLLMENT)],
    "enrollment-todo": [("/benefits/enrollments/", ENROLLMENT)],
    "notice-list": [("/benefits/notices/", NOTICE)],
}
ROLES = ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]
# The shared world holds no care-subsidy rows: the payments routes' tests make theirs (rolled
# back with the test), in both counties.
PAYMENT_ROUTES = {
    name
    for name, route in ROUTES.items()
    if route.model in (ENROLLMENT, BANK_ACCOUNT, BATCH, LINE) or name == "payment-batch-list"
} | {"api-bank-account-list", "api-disbursement-batch-list", "api-disbursement-list"}


@pytest.fixture(autouse=True)
def _payment_rows(request):
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("name") in PAYMENT_ROUTES:
        from tests.benefits.factories_payments import payment_world

        payment_world(request.getfixturevalue("world"))


def _walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def project_route_names() -> set[str]:
    # The Django admin is the platform operator's (see test_platform_pages_are_closed_…).
    return {name for name in _walk(get_resolver().url_patterns) if not name.startswith("admin:")}


def test_matrix_covers_every_route():
    assert project_route_names() == set(ROUTES)


def _key(user) -> str:
    return f"{user.node_level}_id"


def _own(model_label: str, user) -> Q:
    """The rows of the model the user may reach: those of the user's subtree (of the user's
    county for a COUNTY_WIDE model; and those placed at one of the node's ancestors for a
    COVERING one)."""
    if model_label in COUNTY_WIDE:
        return Q(county_id=user.county_id)
    own = Q(**{_key(user): user.node_id})
    if model_label in COVERING:
        with unscoped(reason=UnscopedReason.TEST_FIXTURES):
            node = apps.get_model(NODE).objects.get(pk=user.node_id)
        for above, below in pairwise(("county", "township", "village", "group")):
            if above == user.node_level:
                break
            own |= Q(**{f"{above}_id": getattr(node, f"{above}_id"), f"{below}_id": None})
    return own


def foreign_rows(model_label: str, user, limit: int = 8) -> list:
    """Rows of the model the user must not reach, spread over both counties and levels."""
    model = apps.get_model(model_label)
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        rows = list(model.objects.exclude(_own(model_label, user)).order_by("county_id", "pk"))
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def allowed_ids(model_label: str, user) -> set[int]:
    model = apps.get_model(model_label)
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        return set(model.objects.filter(_own(model_label, user)).values_list("pk", flat=True))


def _nothing_renamed() -> bool:
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        return not apps.get_model(NODE).objects.filter(name="改名").exists()


OBJECT_ROUTES = sorted(name for name, route in ROUTES.items() if route.model)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_foreign_objects_are_404(client, world, role, name):
    route = ROUTES[name]
    user = world.a.users[role]
    targets = foreign_rows(route.model, user)
    assert targets, f"the world must give {role} a foreign {route.model} to try"
    api_client = APIClient()
    api_client.force_authenticate(user)
    client.force_login(user)
    http = api_client if route.api else client
    for obj in targets:
        url = reverse(name, kwargs={"pk": obj.pk, **dict(route.kwargs)})
        if route.get:
            assert http.get(url).status_code == 404, url
        for method in route.writes:
            kwargs = {"format": "json"} if route.api else {}
            response = getattr(http, method)(url, {"name": "改名"}, **kwargs)
            assert response.status_code == 404, (method, url, response.content[:300])
    assert _nothing_renamed()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(API_LISTS))
def test_api_lists_show_only_the_subtree(world, role, name):
    user = world.a.users[role]
    api_client = APIClient()
    api_client.force_authenticate(user)
    response = api_client.get(reverse(name), {"page_size": 500})
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed <= allowed_ids(API_LISTS[name], user)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGE_LISTS))
def test_list_pages_link_only_to_the_subtree(client, world, role, name):
    user = world.a.users[role]
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    for prefix, model in PAGE_LISTS[name]:
        linked = {int(pk) for pk in re.findall(rf'href="{prefix}(\d+)/"', body)}
        assert linked <= allowed_ids(model, user), (prefix, linked)


@pytest.mark.parametrize("role", ROLES)
def test_tree_home_and_me_show_only_the_subtree(client, world, role):
    user = world.a.users[role]
    api_client = APIClient()
    api_client.force_authenticate(user)
    tree = api_client.get(reverse("association-tree")).json()

    def ids(node):
        yield node["id"]
        for child in node["children"]:
            yield from ids(child)

    assert set(ids(tree)) == allowed_ids(NODE, user)
    other = world.b.county.pk
    assert api_client.get(reverse("association-tree"), {"root": other}).status_code == 404
    client.force_login(user)
    home = client.get(reverse("home"), follow=True)
    assert home.status_code == 200
    body = home.content.decode()
    for node in world.b.nodes:
        assert node.name not in body
    assert api_client.get(reverse("me-list")).json()["node"]["id"] == user.node_id


def test_staff_list_shows_only_own_county(client, world):
    client.force_login(world.a.users["county_admin"])
    body = client.get(reverse("staff-list")).content.decode()
    assert "township_staff_130534" in body
    assert "130535" not in body


@pytest.mark.parametrize("role", ["county_admin", "township_staff", "village_secretary"])
def test_foreign_objects_cannot_be_referenced_by_the_api(world, role):
    user = world.a.users[role]
    api_client = APIClient()
    api_client.force_authenticate(user)
    b = world.b
    response = api_client.post(
        reverse("association-list"),
        {"parent": b.villages[0].pk, "name": "越界小组", "division_code": "130535100200009"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["parent"][0]["code"] == "does_not_exist"
    response = api_client.post(
        reverse("council-list"),
        {
            "association": b.villages[0].pk,
            "term_number": 9,
            "starts_on": "2024-01-01",
            "ends_on": "2028-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    council_b = b.councils[b.villages[0].pk]
    response = api_client.post(
        reverse("council-seat-list"),
        {
            "council": council_b.pk,
            "position": "director",
            "person_name": "越界",
            "background": "elder",
        },
        format="json",
    )
    assert response.status_code == 400
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        assert not apps.get_model(NODE).objects.filter(name="越界小组").exists()


def test_move_cannot_reference_another_countys_township(client, world):
    admin = world.a.users["county_admin"]
    village = world.a.villages[0]
    api_client = APIClient()
    api_client.force_authenticate(admin)
    response = api_client.post(
        reverse("association-move", kwargs={"pk": village.pk}),
        {"new_parent": world.b.townships[0].pk},
        format="json",
    )
    assert response.status_code == 400
    client.force_login(admin)
    response = client.post(
        reverse("node-move", kwargs={"pk": village.pk}), {"new_parent": world.b.townships[0].pk}
    )
    assert response.status_code == 400
    with world.a.scope():
        village.refresh_from_db()
    assert village.parent_id == world.a.townships[0].pk


def test_staff_form_cannot_reference_another_countys_node(client, world):
    client.force_login(world.a.users["county_admin"])
    response = client.post(
        reverse("staff-create"),
        {
            "username": "intruder",
            "full_name": "越界",
            "node": world.b.villages[0].pk,
            "role": "village_secretary",
            "password": "Strong@pass2026",
        },
    )
    assert response.status_code == 400
    assert "intruder" not in client.get(reverse("staff-list")).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_platform_pages_are_closed_to_county_staff(client, world, role):
    client.force_login(world.a.users[role])
    assert client.get(reverse("platform-counties")).status_code == 403
    assert client.get(reverse("platform-county-create")).status_code == 403
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff


BY_REF = [("api-activity-by-ref", ACTIVITY), ("api-visit-by-ref", VISIT)]


def _upsert_body(world, name: str) -> dict:
    """A whole record in county A's first village (every role of county A sees it)."""
    a = world.a
    if name == "api-activity-by-ref":
        return {"kind": "publicity", "date": "2024-01-10", "title": "改名"}
    return {
        "visitor": a.members[0].pk,
        "household": a.households[0].pk,
        "visited_on": "2024-01-10",
        "purpose": "policy",
        "notes": "改名",
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "model"), BY_REF)
def test_by_ref_reaches_only_the_subtree(world, role, name, model):
    """A foreign record's external reference reads as 404, and a PUT with it never touches
    that record: another county's reference is free in the caller's county (a new record
    there), a sibling subtree's is `taken` (400), and a county viewer writes nothing (403)."""
    user = world.a.users[role]
    api_client = APIClient()
    api_client.force_authenticate(user)
    targets = [row for row in foreign_rows(model, user, limit=100) if row.external_ref]
    assert targets, f"the world must give {role} a foreign {model} with a reference"
    model_class = apps.get_model(model)
    for obj in targets:
        url = reverse(name, kwargs={"external_ref": obj.external_ref})
        assert api_client.get(url).status_code == 404, url
        response = api_client.put(url, _upsert_body(world, name), format="json")
        with unscoped(reason=UnscopedReason.TEST_FIXTURES):
            fresh = model_class.objects.get(pk=obj.pk)
            created = model_class.objects.filter(external_ref=obj.external_ref).exclude(pk=obj.pk)
            created = list(created)
        assert (fresh.updated_at, fresh.county_id) == (obj.updated_at, obj.county_id)
        if role == "county_viewer":
            assert response.status_code == 403, response.content[:300]
        elif obj.county_id == user.county_id:
            assert response.status_code == 400, response.content[:300]
            assert response.json()["error"]["fields"]["external_ref"][0]["code"] == "taken"
        else:
            assert response.status_code == 201, response.content[:300]
            assert [row.county_id for row in created] == [user.county_id]
            assert response.json()["id"] == created[0].pk
