"""Periods by frequency, account numbers and the bank's result words: the rules users type
against, with their Chinese errors."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from benefits.payments_rules import clean_account_number, parse_period, parse_result


def _message(error: ValidationError, field: str) -> str:
    return error.value.message_dict[field][0]


@pytest.mark.parametrize(
    ("frequency", "typed", "key", "start", "end", "label"),
    [
        ("yearly", "2026", "2026", (2026, 1, 1), (2026, 12, 31), "2026年"),
        ("yearly", "2026年", "2026", (2026, 1, 1), (2026, 12, 31), "2026年"),
        ("monthly", "2026-03", "2026-03", (2026, 3, 1), (2026, 3, 31), "2026年3月"),
        ("monthly", "2026-2", "2026-02", (2026, 2, 1), (2026, 2, 28), "2026年2月"),
        ("monthly", "2024年2月", "2024-02", (2024, 2, 1), (2024, 2, 29), "2024年2月"),
        ("monthly", "２０２６/１１", "2026-11", (2026, 11, 1), (2026, 11, 30), "2026年11月"),
        ("one_off", "2026-03-15", "2026-03-15", (2026, 3, 15), (2026, 3, 15), "2026年3月15日"),
        ("one_off", "2026年9月1日", "2026-09-01", (2026, 9, 1), (2026, 9, 1), "2026年9月1日"),
    ],
)
def test_periods_are_read_and_normalised_by_frequency(frequency, typed, key, start, end, label):
    period = parse_period(frequency, typed)
    assert period.key == key
    assert (period.start, period.end) == (datetime.date(*start), datetime.date(*end))
    assert period.label == label


@pytest.mark.parametrize(
    ("frequency", "typed", "message"),
    [
        ("yearly", "2026-03", "按年发放的项目,发放期应为年份,如“2026”。"),
        ("yearly", "1899", "年份应在 2000 至 2099 之间。"),
        ("monthly", "2026", "按月发放的项目,发放期应为年月,如“2026-03”。"),
        ("monthly", "2026-13", "月份应在 1 至 12 之间。"),
        ("one_off", "2026-02-30", "没有这一天。"),
        ("one_off", "2026-03", "一次性发放的项目,发放期应为发放日期,如“2026-03-15”。"),
        ("yearly", "", "请填写发放期。"),
        ("yearly", "二〇二六", "按年发放的项目"),
    ],
)
def test_a_period_that_does_not_fit_the_frequency_is_refused_in_chinese(frequency, typed, message):
    with pytest.raises(ValidationError) as error:
        parse_period(frequency, typed)
    assert message in _message(error, "period")


def test_account_numbers_keep_their_digits_only():
    assert clean_account_number("6228 4804 0256 4890 018") == "6228480402564890018"
    assert clean_account_number("６２２８-４８０４-０２５６-４８９０") == "6228480402564890"
    assert clean_account_number("1" * 12) == "1" * 12
    assert clean_account_number("9" * 30) == "9" * 30


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        ("", "account_empty", "请填写银行账号。"),
        ("6228A80402564890018", "account_chars", "银行账号只能由数字组成"),
        ("62284804025", "account_length", "银行账号应为 12 至 30 位数字,现在是 11 位。"),
        ("1" * 31, "account_length", "现在是 31 位"),
    ],
)
def test_a_bad_account_number_is_refused_without_repeating_it(typed, code, message):
    with pytest.raises(ValidationError) as error:
        clean_account_number(typed)
    [detail] = error.value.error_dict["account_number"]
    assert detail.code == code
    assert message in detail.messages[0]
    if typed:
        assert typed not in detail.messages[0]


def test_the_banks_result_words():
    assert [parse_result(w) for w in ("成功", "交易成功", " 已入账 ", "SUCCESS")] == ["paid"] * 4
    assert [parse_result(w) for w in ("失败", "交易失败", "退回", "Failed")] == ["failed"] * 4
    assert [parse_result(w) for w in ("", "处理中", None)] == [None, None, None]
