"""Identity helpers: ID numbers, phones, masking, pinyin initials. No database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn.ric import calc_check_digit

from households import identity
from households.identity import (
    check_id_matches,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_phone,
    parse_id_number,
    pinyin_initials,
    region_name,
    upgrade_notice,
    validate_phone,
)

TODAY = datetime.date(2026, 3, 1)
# The example numbers of GB 11643-1999 and python-stdnum, valid independently of our code.
GB_FEMALE = "11010519491231002X"
GB_FEMALE_15 = "110105491231002"
STDNUM_MALE = "360426199101010071"


def valid(body: str) -> str:
    """An 18-digit number with the right check digit for its first 17 digits."""
    assert len(body) == 17
    return body + calc_check_digit(body + "0")


def wrong_check(body: str) -> str:
    """The same first 17 digits with a check digit that is not the right one."""
    right = calc_check_digit(body + "0")
    return body + ("1" if right != "1" else "2")


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def error_code(error: ValidationError) -> str:
    return error.error_list[0].code


# --- normalize_id_number ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", GB_FEMALE),
        (" 110105 19491231 002X ", GB_FEMALE),
        ("１１０１０５１９４９１２３１００２Ｘ", GB_FEMALE),  # full-width
        ("110105\u300019491231\t002ｘ", GB_FEMALE),  # ideographic space, tab, full-width x
        ("x11010519491231002", "x11010519491231002"),  # only a trailing x is uppercased
        ("", ""),
    ],
)
def test_normalize_id_number(raw, expected):
    assert normalize_id_number(raw) == expected


# --- parse_id_number: accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number", "birth_date", "sex", "region_code", "upgraded_from", "is_hmt"),
    [
        (GB_FEMALE, GB_FEMALE, "1949-12-31", "female", "110105", "", False),
        ("11010519491231002x", GB_FEMALE, "1949-12-31", "female", "110105", "", False),
        (
            "１１０１０５ １９４９１２３１\u3000００２ｘ",
            GB_FEMALE,
            "1949-12-31",
            "female",
            "110105",
            "",
            False,
        ),
        (STDNUM_MALE, STDNUM_MALE, "1991-01-01", "male", "360426", "", False),
        # 15 digits: "19" inserted, check digit computed
        (GB_FEMALE_15, GB_FEMALE, "1949-12-31", "female", "110105", GB_FEMALE_15, False),
        (
            "130534850612131",
            valid("13053419850612131"),
            "1985-06-12",
            "male",
            "130534",
            "130534850612131",
            False,
        ),
        # county code unknown to stdnum under a known province: accepted
        (
            valid("11999919900101123"),
            valid("11999919900101123"),
            "1990-01-01",
            "male",
            "119999",
            "",
            False,
        ),
        # Hong Kong / Macao / Taiwan residence permits
        (
            valid("81000019900101124"),
            valid("81000019900101124"),
            "1990-01-01",
            "female",
            "810000",
            "",
            True,
        ),
        (
            valid("82000020000229003"),
            valid("82000020000229003"),
            "2000-02-29",
            "male",
            "820000",
            "",
            True,
        ),
        (
            valid("83000019751231456"),
            valid("83000019751231456"),
            "1975-12-31",
            "female",
            "830000",
            "",
            True,
        ),
        # born today, and on the earliest accepted day
        (
            valid("13053420260301002"),
            valid("13053420260301002"),
            "2026-03-01",
            "female",
            "130534",
            "",
            False,
        ),
        (
            valid("13053419000101001"),
            valid("13053419000101001"),
            "1900-01-01",
            "male",
            "130534",
            "",
            False,
        ),
    ],
)
def test_parse_id_number_accepts(raw, number, birth_date, sex, region_code, upgraded_from, is_hmt):
    parsed = parse_id_number(raw, today=TODAY)
    assert parsed == identity.IdNumber(
        number=number,
        birth_date=d(birth_date),
        sex=sex,
        region_code=region_code,
        upgraded_from=upgraded_from,
        is_hmt_permit=is_hmt,
    )
    assert len(parsed.number) == 18


def test_parse_id_number_defaults_today_to_chinas_date():
    assert parse_id_number(STDNUM_MALE).birth_date == d("1991-01-01")
    tomorrow = identity.china_today() + datetime.timedelta(days=1)
    body = "130534" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(ValidationError) as caught:
        parse_id_number(valid(body))
    assert error_code(caught.value) == identity.ID_FUTURE_BIRTH


def test_id_number_is_frozen():
    parsed = parse_id_number(GB_FEMALE, today=TODAY)
    with pytest.raises(AttributeError):
        parsed.number = STDNUM_MALE


# --- parse_id_number: refused -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "message_part"),
    [
        ("", identity.ID_EMPTY, "请填写身份证号码"),
        (" \u3000 ", identity.ID_EMPTY, "请填写身份证号码"),
        ("1101051949123100AX", identity.ID_CHARS, "“A”"),
        ("11010519491231X02X", identity.ID_CHARS, "“X”"),
        ("110105-19491231-002X", identity.ID_CHARS, "“-”"),
        ("x11010519491231002", identity.ID_CHARS, "“x”"),
        ("11010549123100X", identity.ID_CHARS, "15 位"),  # 15 digits have no check digit
        ("1101051949123100", identity.ID_LENGTH, "您输入了 16 位"),
        ("1101051949123100211", identity.ID_LENGTH, "您输入了 19 位"),
        ("110105194912310021", identity.ID_CHECKSUM, "校验位不正确,请核对最后一位"),
        (wrong_check("36042619910101007"), identity.ID_CHECKSUM, "校验位"),
        (valid("11010519900230123"), identity.ID_BIRTH_DATE, "出生日期 1990-02-30 不存在"),
        (valid("11010519901301123"), identity.ID_BIRTH_DATE, "1990-13-01 不存在"),
        (valid("11010519890229123"), identity.ID_BIRTH_DATE, "1989-02-29 不存在"),
        ("110105900230123", identity.ID_BIRTH_DATE, "1990-02-30 不存在"),  # 15 digits
        (valid("11010520310101123"), identity.ID_FUTURE_BIRTH, "出生日期 2031-01-01 晚于今天"),
        (valid("11010520260302123"), identity.ID_FUTURE_BIRTH, "2026-03-02 晚于今天"),
        ("440524188001010014", identity.ID_TOO_OLD, "1880-01-01 早于 1900 年"),
        (valid("11010518991231123"), identity.ID_TOO_OLD, "1899-12-31"),
        (valid("99010119900101123"), identity.ID_REGION, "990101"),
        (valid("00000019900101123"), identity.ID_REGION, "000000"),
        (valid("81123419900101123"), identity.ID_REGION, "810000、820000 或 830000"),
        (valid("83010019900101123"), identity.ID_REGION, "830100"),
        ("810000900101123", identity.ID_LENGTH, "港澳台居民居住证号码应为 18 位"),
    ],
)
def test_parse_id_number_refuses(raw, code, message_part):
    with pytest.raises(ValidationError) as caught:
        parse_id_number(raw, today=TODAY)
    assert error_code(caught.value) == code
    assert message_part in caught.value.messages[0]


def test_upgrade_notice():
    upgraded = parse_id_number(GB_FEMALE_15, today=TODAY)
    assert upgrade_notice(upgraded) == (
        "15 位身份证号码已自动升级为 18 位:110105491231002 → 11010519491231002X。"
    )
    assert upgrade_notice(parse_id_number(GB_FEMALE, today=TODAY)) == ""


# --- check_id_matches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "sex", "expected"),
    [
        (None, None, {}),
        (d("1949-12-31"), "female", {}),
        (d("1949-12-30"), "female", {"birth_date": identity.ID_BIRTH_MISMATCH}),
        (d("1949-12-31"), "male", {"sex": identity.ID_SEX_MISMATCH}),
        (None, "male", {"sex": identity.ID_SEX_MISMATCH}),
        (
            d("1950-01-01"),
            "male",
            {"birth_date": identity.ID_BIRTH_MISMATCH, "sex": identity.ID_SEX_MISMATCH},
        ),
    ],
)
def test_check_id_matches(birth_date, sex, expected):
    id_number = parse_id_number(GB_FEMALE, today=TODAY)
    if not expected:
        check_id_matches(id_number, birth_date=birth_date, sex=sex)
        return
    with pytest.raises(ValidationError) as caught:
        check_id_matches(id_number, birth_date=birth_date, sex=sex)
    codes = {field: errors[0].code for field, errors in caught.value.error_dict.items()}
    assert codes == expected


def test_check_id_matches_messages_name_both_values():
    id_number = parse_id_number(GB_FEMALE, today=TODAY)
    with pytest.raises(ValidationError) as caught:
        check_id_matches(id_number, birth_date=d("1950-01-01"), sex="male")
    messages = caught.value.message_dict
    assert messages["birth_date"] == ["出生日期 1950-01-01 与身份证号码中的 1949-12-31 不一致。"]
    assert "“男”" in messages["sex"][0]
    assert "女" in messages["sex"][0]


# --- region_name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "year", "expected"),
    [
        ("130534", None, "河北省邢台市清河县"),
        ("110101", None, "北京市东城区"),  # the 市辖区 grouping label is left out
        ("110000", None, "北京市"),
        ("130500", None, "河北省邢台市"),
        ("120110", None, "天津市东丽区"),  # renamed in 1992: latest name
        ("120110", 1990, "天津市东郊区"),  # name in force that year
        ("119999", None, "北京市"),  # unknown county: as far as known
        (GB_FEMALE, None, "北京市朝阳区"),  # an ID number works too
        ("810000", None, "香港特别行政区"),
        ("820000", None, "澳门特别行政区"),
        ("830000", None, "台湾地区"),
        ("990101", None, None),
        ("12345", None, None),
        ("", None, None),
    ],
)
def test_region_name(code, year, expected):
    assert region_name(code, year=year) == expected


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("86-138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width
        ("199 0000 1111", "19900001111"),
        ("0319-8123456", "0319-8123456"),
        ("03198123456", "0319-8123456"),
        ("0319 8123456", "0319-8123456"),
        ("(0319)8123456", "0319-8123456"),
        ("(0319)81234567", "0319-81234567"),
        ("０３１９－８１２３４５６", "0319-8123456"),
        ("010-62345678", "010-62345678"),  # Beijing: 3-digit area code
        ("01062345678", "010-62345678"),
        ("021-6123-4567", "021-61234567"),
        ("0755-86543210", "0755-86543210"),
        ("0319-8123456-123", "0319-8123456-123"),
        ("0319-8123456转123", "0319-8123456-123"),
        ("+86 10 62345678", "010-62345678"),
        ("+86 (0)319 8123456", "0319-8123456"),
    ],
)
def test_validate_phone_accepts(raw, expected):
    assert validate_phone(raw) == expected
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        ("", "请填写电话号码"),
        ("1381234567", "11 位,您输入了 10 位"),
        ("138123456789", "11 位,您输入了 12 位"),
        ("12812345678", "格式不正确"),  # mobiles start 13-19
        ("8123456", "请加区号"),
        ("0319-0123456", "不会以 0 或 1 开头"),  # local numbers do not start with 0
        ("010 12345678", "不会以 0 或 1 开头"),  # nor with 1
        ("0319-812345", "格式不正确"),  # 6 digits
        ("0319-812345678", "格式不正确"),  # 9 digits
        ("0119-8123456", "格式不正确"),  # no such area code
        ("abc", "格式不正确"),
    ],
)
def test_validate_phone_refuses(raw, message_part):
    with pytest.raises(ValidationError) as caught:
        validate_phone(raw)
    assert error_code(caught.value) == identity.PHONE_INVALID
    assert message_part in caught.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  abc 123 ", "abc123"), ("８１２３４５６", "8123456"), ("", "")],
)
def test_normalize_phone_leaves_unrecognized_text_cleaned(raw, expected):
    assert normalize_phone(raw) == expected


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110101199003071234", "110101************"),  # region code only
        ("11010519491231002x", "110105************"),
        ("110105491231002", "110105*********"),  # 15 digits: region code only, length kept
        ("1234567890", "**********"),  # unexpected shape: nothing shown
        ("12345", "*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, expected):
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138******78"),  # six digits hidden
        ("+86 138 1234 5678", "138******78"),
        ("0319-8123456", "0319-******6"),
        ("010-62345678", "010-******78"),
        ("0319-8123456-12", "0319-******6-12"),
        ("abc", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        (" 李四 ", "李*"),
        ("张", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


# --- pinyin initials ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三丰", "zsf"),
        ("王 小 明", "wxm"),
        ("单田芳", "stf"),  # surname 单 is shan, not dan
        ("曾国藩", "zgf"),  # zeng, not ceng
        ("解缙", "xj"),  # xie, not jie
        ("仇英", "qy"),  # qiu, not chou
        ("区寄", "oj"),  # ou, not qu
        ("朴槿惠", "pjh"),
        ("查良镛", "zly"),  # zha, not cha
        ("覃丽", "ql"),
        ("翟明", "zm"),
        ("尉迟恭", "ycg"),  # compound surnames
        ("单于", "cy"),
        ("简单", "jd"),  # only the first character is a surname
        ("Tom张", "tomz"),
        ("ＡＢ张", "abz"),
        ("阿依古丽·买买提", "ayglmmt"),
        ("李4", "l"),
        ("", ""),
    ],
)
def test_pinyin_initials(name, expected):
    assert pinyin_initials(name) == expected
