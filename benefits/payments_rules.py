"""The rules of payments that need no database: a programme's periods (发放期), payment methods,
the bank account number's shape, and how a bank's result words read.

Periods follow the programme's frequency:
- yearly (按年): the year, "2026";
- monthly (按月): the year and month, "2026-03" ("2026-3", "2026/03" and "2026年3月" are read);
- one-off (一次性): the day of the payment, "2026-03-15" (also "2026/3/15", "2026年3月15日").
A period names a span of days; an enrolment is paid for it when it was on the roll (在册) by the
span's last day."""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

from households.identity import normalize_bank_account

from .models import Frequency

EARLIEST_YEAR = 2000
LATEST_YEAR = 2099

PERIOD_HINTS = {
    Frequency.YEARLY: "按年发放的项目,发放期应为年份,如“2026”。",
    Frequency.MONTHLY: "按月发放的项目,发放期应为年月,如“2026-03”。",
    Frequency.ONE_OFF: "一次性发放的项目,发放期应为发放日期,如“2026-03-15”。",
}

_YEAR = re.compile(r"^(\d{4})年?$")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass(frozen=True)
class Period:
    key: str  # as stored: "2026", "2026-03", "2026-03-15"
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        """ "2026年", "2026年3月", "2026年3月15日" """
        if len(self.key) == 4:
            return f"{self.start.year}年"
        if len(self.key) == 7:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年{self.start.month}月{self.start.day}日"


def _invalid(frequency: str, detail: str = "") -> ValidationError:
    message = f"{detail}{PERIOD_HINTS.get(frequency, '发放期格式不对。')}"
    return ValidationError({"period": ValidationError(message, code="period_invalid")})


def _year(text: str, frequency: str) -> int:
    year = int(text)
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise _invalid(frequency, f"年份应在 {EARLIEST_YEAR} 至 {LATEST_YEAR} 之间。")
    return year


def parse_period(frequency: str, raw) -> Period:
    """The period of a programme of this frequency, normalised; a ValidationError on the
    `period` field, in Chinese, otherwise."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        raise ValidationError({"period": ValidationError("请填写发放期。", code="period_empty")})
    if frequency == Frequency.YEARLY:
        match = _YEAR.match(text)
        if not match:
            raise _invalid(frequency)
        year = _year(match.group(1), frequency)
        return Period(f"{year}", datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    if frequency == Frequency.MONTHLY:
        match = _MONTH.match(text)
        if not match:
            raise _invalid(frequency)
        year, month = _year(match.group(1), frequency), int(match.group(2))
        if not 1 <= month <= 12:
            raise _invalid(frequency, "月份应在 1 至 12 之间。")
        last = calendar.monthrange(year, month)[1]
        return Period(
            f"{year}-{month:02d}", datetime.date(year, month, 1), datetime.date(year, month, last)
        )
    if frequency == Frequency.ONE_OFF:
        match = _DAY.match(text)
        if not match:
            raise _invalid(frequency)
        year = _year(match.group(1), frequency)
        try:
            day = datetime.date(year, int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise _invalid(frequency, "没有这一天。") from None
        return Period(day.isoformat(), day, day)
    raise _invalid(frequency)


def period_of(frequency: str, key: str) -> Period:
    """A stored period (already normalised) as a Period."""
    return parse_period(frequency, key)


class PaymentMethod(models.TextChoices):
    BANK = "bank", "银行代发"
    CASH = "cash", "现金发放"
    TRANSFER = "transfer", "转账"
    OTHER = "other", "其他"


def method_label(value: str) -> str:
    return dict(PaymentMethod.choices).get(value, value)


# --- bank account numbers ---------------------------------------------------------------------

ACCOUNT_MIN_DIGITS = 12
ACCOUNT_MAX_DIGITS = 30


def clean_account_number(raw) -> str:
    """The number as banks print it, digits only (spaces and dashes dropped, full-width digits
    read as digits), 12 to 30 of them. The error never repeats the number."""
    number = normalize_bank_account(unicodedata.normalize("NFKC", str(raw or "")))
    if not number:
        raise ValidationError(
            {"account_number": ValidationError("请填写银行账号。", code="account_empty")}
        )
    if not (number.isascii() and number.isdigit()):
        raise ValidationError(
            {
                "account_number": ValidationError(
                    "银行账号只能由数字组成(可以带空格或短横线)。", code="account_chars"
                )
            }
        )
    if not ACCOUNT_MIN_DIGITS <= len(number) <= ACCOUNT_MAX_DIGITS:
        raise ValidationError(
            {
                "account_number": ValidationError(
                    f"银行账号应为 {ACCOUNT_MIN_DIGITS} 至 {ACCOUNT_MAX_DIGITS} 位数字,"
                    f"现在是 {len(number)} 位。",
                    code="account_length",
                )
            }
        )
    return number


# --- the bank's result words --------------------------------------------------------------------

PAID = "paid"
FAILED = "failed"
RESULT_WORDS = {
    PAID: {
        "成功",
        "已成功",
        "交易成功",
        "处理成功",
        "发放成功",
        "已入账",
        "入账成功",
        "success",
        "paid",
    },
    FAILED: {"失败", "交易失败", "处理失败", "发放失败", "已退回", "退回", "fail", "failed"},
}


def parse_result(raw) -> str | None:
    """ "paid", "failed", or None for a word that is neither."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().lower()
    for result, words in RESULT_WORDS.items():
        if text in words:
            return result
    return None
