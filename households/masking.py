"""The one masking policy: who sees personal identifiers (ID number, phone, birth date) in
full, where, and what everyone else sees instead. The masking itself is households.identity's
one implementation; pages, the API, exports, rosters, import error workbooks and the change
history all ask this module.

The policy (PIPL art. 28/51, GB/T 35273 §6.3):

- Privileged roles: the county's administrators and the village secretaries who register
  people (`FULL_IDENTITY_ROLES`). They see the full ID number, phone and birth date on ONE
  person's or household's detail page (and the API's detail record), in the POST-only lookup
  and in the roster export they explicitly ask full numbers for. Every such display is
  recorded (households.identity_reads). Everywhere else (lists, searches, history, error
  workbooks) they see what everyone sees.
- Everyone else, and everyone on lists: the ID number shows its 6-digit region code only,
  the phone its first 3 and last 2 digits, and the birth date is never shown: the age in whole
  years (整岁) is. Sex and the (unmasked) name are shown.

Why that cannot be undone (tests/households/test_masking.py works it out): the hidden part of
an ID number is the birth date (8 digits), a 3-digit sequence number and a check digit.
Knowing the age on the day of viewing leaves 365 (or 366) possible birth dates; knowing the
sex fixes the parity of the sequence number, leaving 500 of 1,000; the check digit follows
from the rest (1 candidate). 365 x 500 x 1 = 182,500 candidates >= 10,000. A phone hides 6
digits: 1,000,000 candidates. The name and the phone carry nothing about the ID number.
The village is shown but ID numbers carry the region of issue (kept for life), not the
village, so it narrows nothing. Residual risk, accepted: watching one person's age every day
for a year reveals the birthday (500 candidates then); the age filters give the same.

Bank accounts (benefits' payees) follow the same rule: in full only on the account's own
detail page (and its form) for the privileged roles, recorded; everywhere else, API detail
included, the last four digits (households.identity.mask_bank_account). An account number has
12 to 30 digits, so at least 8 stay hidden: 10**8 candidates, 10**7 after a card number's
Luhn check digit. The one output with full numbers is the bank's transfer file (代发文件),
which only the county's administrators may write (`may_export_bank_accounts`), each one
recorded.
"""

from __future__ import annotations

import datetime

from associations.models import Level, Role

from .categories import age_shown
from .identity import mask_bank_account, mask_id_number, mask_phone

# The roles that enter and verify identity data: the county's administrators and the
# village secretaries who register people. Everyone else sees masked values everywhere.
FULL_IDENTITY_ROLES = {Role.COUNTY_ADMIN, Role.VILLAGE_SECRETARY}

# The least a masked value may leave to guess (the finding's bar).
MIN_CANDIDATES = 10_000


def sees_full_identity(user) -> bool:
    if getattr(user, "is_api_key", False):  # other systems' API keys: masked always (issue 12)
        return False
    return getattr(user, "role", None) in FULL_IDENTITY_ROLES


def may_look_up_by_id_number(user) -> bool:
    """The POST-only lookup by a full ID number or phone, rate-limited and recorded."""
    return sees_full_identity(user)


def shows_full(user, *, detail: bool) -> bool:
    """Full values: only on a detail page (or a detail API call) and only for the roles above."""
    return detail and sees_full_identity(user)


def id_number_for(user, value: str | None, *, detail: bool = False) -> str:
    if not value:
        return ""
    return value if shows_full(user, detail=detail) else mask_id_number(value)


def phone_for(user, value: str | None, *, detail: bool = False) -> str:
    if not value:
        return ""
    return value if shows_full(user, detail=detail) else mask_phone(value)


def birth_date_for(
    user, value: datetime.date | None, *, detail: bool = False
) -> datetime.date | None:
    """The birth date where the full ID number is shown (it is in the number), else None:
    with the region code of the masked number it would leave only 500 candidates."""
    return value if shows_full(user, detail=detail) else None


def age_for(value: datetime.date | None, today: datetime.date) -> int | None:
    """The age in whole years, which everyone may see."""
    return age_shown(value, today)


def bank_account_for(user, value: str | None, *, detail: bool = False) -> str:
    """A payee's bank account number: in full only on the account's own detail page for the
    privileged roles; elsewhere (lists, API, sheets, history) its last four digits."""
    if not value:
        return ""
    return value if shows_full(user, detail=detail) else mask_bank_account(value)


def may_export_bank_accounts(user) -> bool:
    """The bank's transfer file (代发文件) carries every payee's number in full: the county's
    administrators only (never an API key), and every file written is recorded."""
    if getattr(user, "is_api_key", False):
        return False
    return getattr(user, "role", None) == Role.COUNTY_ADMIN


def sees_registration_place(user) -> bool:
    """Whether messages about an ID number recorded elsewhere in the county may name the
    village (the duplicate message, the import check): township staff and above. A village
    secretary (or group leader) is told only that it is registered elsewhere in the county."""
    level = getattr(user, "node_level", None)
    return level in (Level.COUNTY, Level.TOWNSHIP)


ELSEWHERE_IN_COUNTY = "该身份证号码已在本县其他村登记,请联系乡镇办理迁移,不要重复登记。"


def identity_redactors() -> dict[str, object]:
    """Column masks by import column key, for the import error workbooks."""
    return {"id_number": mask_id_number, "mother_id_number": mask_id_number, "phone": mask_phone}
