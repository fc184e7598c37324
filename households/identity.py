"""Identity data of a person: resident ID numbers (GB 11643), phone numbers, masking and pinyin
initials. Pure functions: no models, no database, no settings.

Policies (they decide what users can and cannot enter, so they are stated here):

- ID numbers are normalized before anything else: full-width characters become ASCII (NFKC),
  all whitespace (including inner spaces and the ideographic space U+3000) is removed, and a
  trailing x becomes X.
- Old 15-digit numbers (issued before 1999, no check digit) are accepted and upgraded to 18
  digits on entry: "19" is inserted before the 2-digit year and the check digit is computed.
  That is not an error; ``IdNumber.upgraded_from`` keeps the old number and ``upgrade_notice``
  gives the sentence to show the user.
- Region (first 6 digits): python-stdnum's table of division codes lacks many codes that were
  valid at some time (codes retired by redistricting, codes it never listed), and people keep
  the number they were issued for life. So a number is refused only when its PROVINCE (first
  2 digits) is unknown (``ID_REGION``); an unknown county code under a known province is
  accepted. ``region_name`` gives the most specific name known, for display only.
- Residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证, issued since
  2018) are accepted: they follow the same 18-character layout and checksum and begin with
  810000 / 820000 / 830000; ``IdNumber.is_hmt_permit`` is True. Any other code beginning 81,
  82 or 83 is refused, and so is a 15-digit number with these prefixes (permits never had one).
- Birth dates: an impossible date (30 February) is refused, and so are dates after today
  (China's date, Asia/Shanghai) and dates before 1900-01-01.
- Phones: 11-digit mainland mobiles (1[3-9]…), with or without +86 / 86 / 0086, spaces and
  dashes; landlines only with an area code (010 and 02X have 3 digits, other codes 4), a local
  number of 7-8 digits and an optional extension. Canonical forms: "13812345678",
  "0319-8123456", "0319-8123456-12".
- Masking, the one implementation for pages, API, exports and public notices: ID numbers keep
  the 6-digit region code only (birth date, sequence number and check digit hidden, length
  kept); mobiles keep the first 3 and the last 2 digits (6 hidden); landlines keep the area
  code and hide 6 digits of the local number; names keep the first character and, from 3
  characters on, the last one. Why this much: households.masking works out that what an
  unprivileged role sees of a person together leaves at least 10,000 candidates.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from pypinyin import Style, lazy_pinyin
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumValidationError

# Stable error codes (API clients and importers rely on them).
ID_EMPTY = "id_empty"
ID_CHARS = "id_chars"
ID_LENGTH = "id_length"
ID_CHECKSUM = "id_checksum"
ID_BIRTH_DATE = "id_birth_date"
ID_FUTURE_BIRTH = "id_future_birth"
ID_TOO_OLD = "id_too_old"
ID_REGION = "id_region"
ID_BIRTH_MISMATCH = "id_birth_mismatch"
ID_SEX_MISMATCH = "id_sex_mismatch"
PHONE_INVALID = "phone_invalid"

MALE = "male"
FEMALE = "female"
SEX_LABELS = {MALE: "男", FEMALE: "女"}

EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
# Birth dates in Chinese ID numbers are dates in China, whatever the server's clock says.
CHINA_TZ = ZoneInfo("Asia/Shanghai")

HMT_PERMIT_REGIONS = {
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
    "830000": "台湾地区",
}
_HMT_PROVINCES = {code[:2]: name for code, name in HMT_PERMIT_REGIONS.items()}
# Grouping labels of stdnum's table that are not place names.
_PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位"}


# --- ID numbers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdNumber:
    """A checked resident ID number and what it says about its holder."""

    number: str  # always 18 characters
    birth_date: datetime.date
    sex: str  # MALE or FEMALE
    region_code: str  # first 6 digits
    upgraded_from: str = ""  # the 15-digit number it was upgraded from, if it was
    is_hmt_permit: bool = False  # residence permit of a Hong Kong, Macao or Taiwan resident


def china_today() -> datetime.date:
    """Today's date in China: the reference for "born in the future"."""
    return datetime.datetime.now(CHINA_TZ).date()


def normalize_id_number(raw: str) -> str:
    """The number as typed, minus what keyboards and copy-paste add: full-width characters,
    spaces anywhere, a lowercase final x."""
    text = "".join(unicodedata.normalize("NFKC", raw or "").split())
    if text.endswith("x"):
        text = text[:-1] + "X"
    return text


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_shape(number: str) -> None:
    if not number:
        raise _invalid("请填写身份证号码。", ID_EMPTY)
    for position, char in enumerate(number):
        is_final_x = char == "X" and position == len(number) - 1
        if not (char.isascii() and char.isdigit()) and not is_final_x:
            raise _invalid(
                f"身份证号码中含有不允许的字符“{char}”:只能是数字,18 位号码的最后一位可以是 X。",
                ID_CHARS,
            )
    if len(number) not in (15, 18):
        raise _invalid(
            f"身份证号码应为 18 位(旧号码为 15 位),您输入了 {len(number)} 位。", ID_LENGTH
        )
    if len(number) == 15 and number.endswith("X"):
        raise _invalid("15 位身份证号码只能由数字组成,没有校验位 X。", ID_CHARS)


def _upgrade_15(number: str) -> str:
    body = number[:6] + "19" + number[6:]
    # calc_check_digit expects the check digit position to be present; its value is ignored.
    return body + ric.calc_check_digit(body + "0")


def _check_region(number: str, *, upgraded: bool) -> bool:
    """Refuse unknown provinces; return whether the number is an HMT residence permit."""
    code = number[:6]
    if code[:2] in _HMT_PROVINCES:
        if code not in HMT_PERMIT_REGIONS:
            raise _invalid(
                f"身份证号码前 6 位 {code} 不是有效的地区代码"
                "(港澳台居民居住证以 810000、820000 或 830000 开头)。",
                ID_REGION,
            )
        if upgraded:
            raise _invalid("港澳台居民居住证号码应为 18 位。", ID_LENGTH)
        return True
    if _province_name(code) is None:
        raise _invalid(f"身份证号码前 6 位 {code} 不是有效的地区代码,请核对。", ID_REGION)
    return False


def _check_birth_date(number: str, today: datetime.date) -> datetime.date:
    written = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    try:
        birth_date = ric.get_birth_date(number)
    except StdnumValidationError:
        raise _invalid(f"身份证号码中的出生日期 {written} 不存在。", ID_BIRTH_DATE) from None
    if birth_date > today:
        raise _invalid(f"身份证号码中的出生日期 {written} 晚于今天。", ID_FUTURE_BIRTH)
    if birth_date < EARLIEST_BIRTH_DATE:
        raise _invalid(f"身份证号码中的出生日期 {written} 早于 1900 年,请核对。", ID_TOO_OLD)
    return birth_date


def parse_id_number(raw: str, *, today: datetime.date | None = None) -> IdNumber:
    """Check a resident ID number (or HMT residence permit number) and read it.

    Raises ValidationError with one of the ID_* codes. Checks run in the order a person would
    fix them: characters, length, checksum, region, birth date. ``today`` is for tests and
    imports of historical data; it defaults to today's date in China."""
    number = normalize_id_number(raw)
    _check_shape(number)
    upgraded_from = ""
    if len(number) == 15:
        upgraded_from, number = number, _upgrade_15(number)
    elif number[-1] != ric.calc_check_digit(number):
        raise _invalid("身份证号码校验位不正确,请核对最后一位。", ID_CHECKSUM)
    is_hmt_permit = _check_region(number, upgraded=bool(upgraded_from))
    birth_date = _check_birth_date(number, today or china_today())
    return IdNumber(
        number=number,
        birth_date=birth_date,
        sex=MALE if int(number[16]) % 2 else FEMALE,
        region_code=number[:6],
        upgraded_from=upgraded_from,
        is_hmt_permit=is_hmt_permit,
    )


def upgrade_notice(id_number: IdNumber) -> str:
    """The sentence telling the user their old number was upgraded, or "" if it was not."""
    if not id_number.upgraded_from:
        return ""
    return f"15 位身份证号码已自动升级为 18 位:{id_number.upgraded_from} → {id_number.number}。"


def check_id_matches(
    id_number: IdNumber, *, birth_date: datetime.date | None = None, sex: str | None = None
) -> None:
    """Refuse entered values that disagree with the ID number, one error per field, so a form
    shows each beside its field. Values not given are not checked."""
    errors = {}
    if birth_date is not None and birth_date != id_number.birth_date:
        errors["birth_date"] = ValidationError(
            f"出生日期 {birth_date.isoformat()} 与身份证号码中的 "
            f"{id_number.birth_date.isoformat()} 不一致。",
            code=ID_BIRTH_MISMATCH,
        )
    if sex and sex != id_number.sex:
        entered = SEX_LABELS.get(sex, sex)
        errors["sex"] = ValidationError(
            f"性别“{entered}”与身份证号码(第 17 位表示{SEX_LABELS[id_number.sex]}性)不一致。",
            code=ID_SEX_MISMATCH,
        )
    if errors:
        raise ValidationError(errors)


# --- Regions ----------------------------------------------------------------------------------


def _table_name(code: str, year: int | None = None) -> str | None:
    """The name stdnum's table gives a 6-digit code. Entries such as
    "[-1991]东郊区,[1992-]东丽区" are names over time: take the one in force in ``year``,
    else the latest."""
    parts = numdb.get("cn/loc").info(code)
    if len(parts) != 2 or "county" not in parts[1][1]:
        return None
    names = []
    for entry in parts[1][1]["county"].split(","):
        start = end = ""
        if entry.startswith("["):
            period, entry = entry[1:].split("]", 1)
            start, end = period.split("-")
        if year is not None and (not start or int(start) <= year) and (not end or year <= int(end)):
            return entry
        names.append(entry)
    return names[-1]


def _province_name(code: str) -> str | None:
    if code[:2] in _HMT_PROVINCES:
        return _HMT_PROVINCES[code[:2]]
    parts = numdb.get("cn/loc").info(code[:2] + "0000")
    return parts[0][1].get("province") if parts else None


def region_name(code: str, *, year: int | None = None) -> str | None:
    """For display: province + prefecture + county, as far as they are known, e.g.
    "河北省邢台市清河县" for 130534. None when the province is unknown. The first 6 characters
    of an ID number also work. ``year`` picks the name in force then (codes get renamed)."""
    code = (code or "")[:6]
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    if code[:2] in _HMT_PROVINCES:
        return _HMT_PROVINCES[code[:2]]
    province = _province_name(code)
    if province is None:
        return None
    names = [province]
    prefecture = code[:4] + "00"
    if code[2:4] != "00" and prefecture != code:
        name = _table_name(prefecture, year)
        if name and name not in _PLACEHOLDER_NAMES:
            names.append(name)
    if code[2:] != "0000":
        name = _table_name(code, year)
        if name:
            names.append(name)
    return "".join(names)


# --- Phones -----------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_LANDLINE_RE = re.compile(
    r"\(?(0(?:10|2\d|[3-9]\d\d))\)?-?([2-9]\d{2,3}-?\d{4})(?:(?:-|转|#|ext\.?)(\d{1,6}))?",
    re.IGNORECASE,
)
_INTERNATIONAL_RE = re.compile(r"(?:\+86|0086)-?(?:\(0\))?-?")


def _phone_text(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()


def _parse_phone(raw: str) -> str | None:
    text = _phone_text(raw)
    mobile = _MOBILE_RE.fullmatch(re.sub(r"[\s\-()]", "", text))
    if mobile:
        return mobile.group(1)
    # Landline: spaces separate parts like hyphens do.
    text = re.sub(r"-+", "-", re.sub(r"\s+", "-", text))
    international = _INTERNATIONAL_RE.match(text)
    if international:
        rest = text[international.end() :]
        text = rest if rest.startswith(("0", "(0")) else "0" + rest
    landline = _LANDLINE_RE.fullmatch(text)
    if not landline:
        return None
    area, local, extension = landline.groups()
    normalized = f"{area}-{local.replace('-', '')}"
    return f"{normalized}-{extension}" if extension else normalized


def normalize_phone(raw: str) -> str:
    """The canonical form of a phone number ("13812345678", "0319-8123456"), or, when it is not
    recognized, the text with full-width characters converted and whitespace removed. Never
    raises: for cleaning data on its way in; use validate_phone to refuse bad numbers."""
    return _parse_phone(raw) or "".join(_phone_text(raw).split())


# An area code and a local number that starts with 0 or 1, which no local number does.
_LOCAL_FROM_0_OR_1_RE = re.compile(
    r"\(?0(?:10|2\d|[3-9]\d\d)\)?-?([01]\d{2,3}-?\d{4})(?:(?:-|转|#|ext\.?)\d{1,6})?",
    re.IGNORECASE,
)


def _local_starting_with_0_or_1(raw: str) -> str:
    text = re.sub(r"-+", "-", re.sub(r"\s+", "-", _phone_text(raw)))
    match = _LOCAL_FROM_0_OR_1_RE.fullmatch(text)
    return match.group(1).replace("-", "") if match else ""


def validate_phone(raw: str) -> str:
    """The canonical form of a mainland mobile or landline number; ValidationError
    (PHONE_INVALID) with a message saying what is wrong otherwise."""
    normalized = _parse_phone(raw)
    if normalized:
        return normalized
    digits = re.sub(r"[\s\-()+]", "", _phone_text(raw))
    if not digits:
        message = "请填写电话号码。"
    elif digits.isdigit() and digits.startswith("1") and len(digits) != 11:
        message = f"手机号码应为 11 位,您输入了 {len(digits)} 位。"
    elif digits.isdigit() and digits[0] in "23456789" and len(digits) in (7, 8):
        message = "固定电话请加区号,例如 0319-8123456。"
    elif local := _local_starting_with_0_or_1(raw):
        message = (
            f"固定电话“{raw.strip()}”区号后的本地号码“{local}”以 {local[0]} 开头:"
            "本地号码不会以 0 或 1 开头,请核对号码(例如 0319-8123456)。"
        )
    else:
        message = (
            f"电话号码“{raw.strip()}”格式不正确:"
            "请填写 11 位手机号码或带区号的固定电话(例如 0319-8123456)。"
        )
    raise ValidationError(message, code=PHONE_INVALID)


# --- Masking ----------------------------------------------------------------------------------


def _mask_unknown(text: str) -> str:
    """Data of an unexpected shape: nothing of it is shown, only its length."""
    return "*" * len(text)


# Digits a masked mobile or landline hides: 10**6 candidates for the hidden part.
PHONE_HIDDEN_DIGITS = 6


def mask_id_number(value: str | None) -> str:
    """110101199003071234 -> 110101************; 15 digits -> first 6 and 9 stars. Only the
    region code stays: the birth date, the sequence number and the check digit are hidden."""
    number = normalize_id_number(value or "")
    if len(number) in (15, 18):
        return number[:6] + "*" * (len(number) - 6)
    return _mask_unknown(number)


def mask_phone(value: str | None) -> str:
    """13812345678 -> 138******78; 0319-8123456 -> 0319-******6, 010-81234567 -> 010-******67
    (extension kept): six digits are always hidden."""
    if not value:
        return ""
    phone = _parse_phone(value)
    if phone is None:
        return _mask_unknown(normalize_phone(value))
    if not phone.startswith("0"):
        return phone[:3] + "*" * PHONE_HIDDEN_DIGITS + phone[-2:]
    area, local, *extension = phone.split("-")
    shown = len(local) - PHONE_HIDDEN_DIGITS
    return "-".join([area, "*" * PHONE_HIDDEN_DIGITS + local[len(local) - shown :], *extension])


_NUMBER_RUN = re.compile(r"\d+[Xx]?")


def full_identifier_in(text: str | None) -> str | None:
    """ "id_number" or "phone" when `text` holds a full resident ID number or a full phone
    number (anywhere in it, whatever the spacing or full-width digits), else None. For
    refusing full numbers where they must not go (URLs, and so access logs)."""
    if not text:
        return None
    compact = re.sub(r"[\s\-()+]", "", unicodedata.normalize("NFKC", text))
    for run in _NUMBER_RUN.findall(compact):
        if len(run) == 18 and run[:17].isdigit() and run[-1].upper() == ric.calc_check_digit(run):
            return "id_number"
        if len(run) == 15 and run.isdigit():
            try:
                parse_id_number(run)
            except ValidationError:
                pass
            else:
                return "id_number"
        if re.fullmatch(r"(?:86|0086)?1[3-9]\d{9}", run):
            return "phone"
    if _parse_phone(text) is not None:  # a landline, e.g. "0319-8123456"
        return "phone"
    return None


def normalize_bank_account(raw: str | None) -> str:
    """A bank card or account number as banks print it, without spaces or dashes."""
    return re.sub(r"[\s-]", "", raw or "")


def mask_bank_account(value: str | None) -> str:
    """6222021234567890123 -> ***************0123: only the last four digits stay, which is
    what a payee recognizes on a receipt and what a bank's own slips show."""
    number = normalize_bank_account(value)
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def mask_name(value: str | None) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜: the first character and, from three
    characters on, the last one stay, so people can recognize their own line in a notice."""
    name = (value or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- Pinyin -----------------------------------------------------------------------------------

# pypinyin (0.55) has no surname mode: characters read differently as a surname, first
# character only. Compound surnames first, so that 单于 is not read as 单 (shan).
COMPOUND_SURNAME_READINGS = {"尉迟": "yu chi", "万俟": "mo qi", "单于": "chan yu"}
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "覃": "qin",
    "翟": "zhai",
    "秘": "bi",
    "繁": "po",
    "缪": "miao",
    "盖": "ge",
    "种": "chong",
}


def _latin_letters(chunk: str) -> str:
    return "".join(char for char in chunk.lower() if "a" <= char <= "z")


def pinyin_initials(name: str) -> str:
    """Lowercase pinyin initials for search by initials (张三丰 -> zsf). Latin letters are kept
    (lowercased), everything else is dropped; surnames read differently are read as surnames."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    if not text:
        return ""
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=_latin_letters)
    compound = COMPOUND_SURNAME_READINGS.get(text[:2])
    if compound:
        initials[:2] = [syllable[0] for syllable in compound.split()]
    elif text[0] in SURNAME_READINGS:
        initials[0] = SURNAME_READINGS[text[0]][0]
    return "".join(initials).lower()
