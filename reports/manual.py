"""Manual indicators' scores (人工评分) for a report run: the ONE place a run reads them.

NOT WIRED YET: the submission workflow (villages submit, township staff review) is built by
another session and has no model here yet, so this returns nothing and every manual
indicator is scored as missing (0 points, reason 未评分) by reports.snapshots. When the
submissions exist, this function must read the accepted scores of the period from them, in
one query for the whole county."""

from __future__ import annotations

from decimal import Decimal

from associations.models import Association

from .models import SchemeVersion

NOT_SCORED = "未评分"


def manual_scores(
    county: Association, period_key: str, version: SchemeVersion
) -> dict[int, dict[str, Decimal]]:
    """{node id: {indicator key: points given}} for the county's nodes in the period under the
    version. Today: {} (no submissions model exists yet; see the module docstring)."""
    return {}
