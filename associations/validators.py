"""Division codes (统计用区划代码): 6 digits for a county, 9 a township, 12 a village; member
groups, which have no official code, use their village's 12 digits plus a 3-digit number."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import FieldDoesNotExist, ValidationError
from stdnum import numdb

from .models import DIVISION_CODE_LENGTH, Level

_LEVEL_NAMES = dict(Level.choices)


def known_county_region(code: str) -> str | None:
    """The county's name in python-stdnum's table of GB/T 2260 codes, or None if unknown."""
    parts = numdb.get("cn/loc").info(code)
    if len(parts) != 2 or "county" not in parts[1][1]:
        return None
    name = parts[1][1]["county"]
    return name.split("]", 1)[-1]


def refuse_unknown_fields(model, given, allowed) -> None:
    """Services take keyword changes; name the ones that cannot be changed, by their Chinese
    labels, rather than silently dropping them."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        labels = []
        for name in unknown:
            try:
                labels.append(str(model._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:
                labels.append(name)
        raise ValidationError(f"不能修改这些字段:{'、'.join(labels)}。", code="not_editable")


def _refuse(message: str, code: str):
    raise ValidationError({"division_code": ValidationError(message, code=code)})


def validate_division_code(code: str, level: str, prefix: str | None = None) -> str:
    # Full-width digits typed on a Chinese keyboard are the same code.
    code = unicodedata.normalize("NFKC", code or "").strip()
    expected = DIVISION_CODE_LENGTH[Level(level)]
    level_name = _LEVEL_NAMES[level]
    if not code.isdigit() or not code.isascii():
        _refuse("区划代码只能由数字组成。", "division_code_not_digits")
    if len(code) != expected:
        _refuse(
            f"{level_name}的区划代码应为 {expected} 位数字,您输入了 {len(code)} 位。",
            "division_code_length",
        )
    if level == Level.COUNTY and known_county_region(code) is None:
        _refuse(
            f"{code} 不是已知的县级行政区划代码,请核对《统计用区划代码》。",
            "division_code_unknown_county",
        )
    if prefix and not code.startswith(prefix):
        _refuse(f"{level_name}的区划代码应以上级组织的代码 {prefix} 开头。", "division_code_prefix")
    if len(code) > 6 and code[len(prefix or "") :].strip("0") == "":
        _refuse("区划代码的本级部分不能全为 0。", "division_code_zero")
    return code
