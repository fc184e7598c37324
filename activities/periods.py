"""The periods of the duties and statistics: the shared Period lives in associations.periods
(reports uses it too); this module keeps the names activities has always imported."""

from associations.periods import (
    FIRST_YEAR,
    HALF_NAMES,
    LAST_YEAR,
    PERIOD_ERROR,
    PERIOD_PATTERN,
    QUARTER_NAMES,
    Period,
    half_of,
    last_day_of_month,
    parse_period,
    period_choices,
    period_key,
    period_label,
    quarter_of,
)

__all__ = [
    "FIRST_YEAR",
    "HALF_NAMES",
    "LAST_YEAR",
    "PERIOD_ERROR",
    "PERIOD_PATTERN",
    "QUARTER_NAMES",
    "Period",
    "half_of",
    "last_day_of_month",
    "parse_period",
    "period_choices",
    "period_key",
    "period_label",
    "quarter_of",
]
