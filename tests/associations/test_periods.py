"""The shared Period (associations.periods): half-years (半年初评) beside months, quarters and
years, and the activities module that re-exports it."""

import datetime

import pytest
from django.urls import reverse

from activities import periods as activity_periods
from associations.periods import (
    PERIOD_ERROR,
    Period,
    half_of,
    parse_period,
    period_key,
    period_label,
)

D = datetime.date


def test_half_years_span_six_months():
    assert Period.half(2026, 1) == Period(D(2026, 1, 1), D(2026, 6, 30))
    assert Period.half(2026, 2) == Period(D(2026, 7, 1), D(2026, 12, 31))
    assert len(Period.half(2026, 1).months()) == 6
    assert Period.half(2026, 2).quarters() == [D(2026, 7, 1), D(2026, 10, 1)]
    with pytest.raises(ValueError):
        Period.half(2026, 3)
    assert (half_of(D(2026, 6, 30)), half_of(D(2026, 7, 1))) == (1, 2)


@pytest.mark.parametrize(
    "key, label, period",
    [
        ("2026-H1", "2026年上半年", Period.half(2026, 1)),
        ("2026-H2", "2026年下半年", Period.half(2026, 2)),
        ("2026-Q3", "2026年第三季度", Period.quarter(2026, 3)),
        ("2026-03", "2026年3月", Period.month(2026, 3)),
        ("2026", "2026年", Period.year(2026)),
    ],
)
def test_keys_and_labels_round_trip(key, label, period):
    assert parse_period(key) == period
    assert period_key(period) == key
    assert period_label(period) == label


def test_lowercase_half_keys_parse_and_bad_ones_do_not():
    assert parse_period(" 2026-h2 ") == Period.half(2026, 2)
    for bad in ("2026-H3", "2026-H0", "2026-H", "2026H1"):
        with pytest.raises(ValueError, match="2025-H1"):
            parse_period(bad)
    assert "半年" in PERIOD_ERROR


def test_a_span_that_is_no_named_period_keys_by_its_dates():
    span = Period(D(2026, 2, 1), D(2026, 7, 31))
    assert period_key(span) == "20260201-20260731"


def test_activities_keeps_importing_the_same_period():
    assert activity_periods.Period is Period
    assert activity_periods.parse_period is parse_period


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["node-duties", "node-duties-export", "node-activities"])
def test_the_activities_pages_take_a_half_year(client, world, name):
    client.force_login(world.a.users["county_admin"])
    for node in (world.a.county, world.a.villages[2]):
        response = client.get(reverse(name, args=[node.pk]), {"period": "2025-H2"})
        assert response.status_code == 200, (name, node.level)
        if name != "node-duties-export":
            assert "2025年下半年" in response.content.decode()
