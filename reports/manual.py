"""Manual indicators' scores (人工评分) for a report run: the ONE place a run reads them.

A manual indicator counts the score township staff gave when they accepted the village's
submission for the period (reports.submissions: the village only proposes). A village whose
submission is not accepted yet, or a period opened under another scheme version, gives
nothing, and reports.snapshots scores the indicator as missing (0 points, reason 未评分)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from associations.models import Association

from .models import ManualScore, SchemeVersion, Submission

NOT_SCORED = "未评分"


def manual_scores(
    county: Association, period_key: str, version: SchemeVersion
) -> dict[int, dict[str, Decimal]]:
    """{village id: {indicator key: points given}} for the county's villages in the period
    under the version: one query for the whole county."""
    rows = ManualScore.objects.filter(
        county_id=county.pk,
        submission__period__key=period_key,
        submission__period__version=version,
        submission__state=Submission.State.ACCEPTED,
        score__isnull=False,
    ).values_list("submission__expected__unit_id", "indicator__key", "score")
    scores: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for village_id, key, score in rows:
        scores[village_id][key] = score
    return dict(scores)
