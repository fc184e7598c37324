"""Who may do what with care subsidies, for an object already in the user's scope (out of
scope is a 404 before these run; in scope but not allowed is a 403).

The workflow follows the seeds' chain of responsibility: the village applies (申报), the
township reviews (审核), the county approves (审批) and pays. Each step is open to its own level
and to the county admin, who may act for any level of the county. County viewers and group
leaders only read."""

from __future__ import annotations

from associations.models import Association, Role
from associations.permissions import in_user_subtree

APPLYING_ROLES = {Role.VILLAGE_SECRETARY, Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN}
REVIEWING_ROLES = {Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN}


def can_apply(user, node: Association) -> bool:
    """Apply for someone of the node's village, post its notice, record objections."""
    return user.role in APPLYING_ROLES and in_user_subtree(user, node)


def can_review(user, node: Association) -> bool:
    """The township's review (审核) of an application at the node, and its return."""
    return user.role in REVIEWING_ROLES and in_user_subtree(user, node)


def can_approve(user) -> bool:
    """The county's approval (审批), exits and the annual re-confirmation."""
    return user.role == Role.COUNTY_ADMIN


def can_configure(user) -> bool:
    """Programmes, their rules and amounts, funds."""
    return user.role == Role.COUNTY_ADMIN


def can_pay(user) -> bool:
    """Disbursement batches, bank files, marking lines paid, ledger entries and loans."""
    return user.role == Role.COUNTY_ADMIN


def can_keep_accounts(user, node: Association) -> bool:
    """A payee's bank account: the village secretary who knows the family, or above."""
    return user.role in APPLYING_ROLES and in_user_subtree(user, node)
