import datetime
import functools
import re
import unicodedata

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's zh-hans catalogue lacks this message's plural form; say it in Chinese."""

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                f"密码长度太短,至少需要 {self.min_length} 个字符。",
                code="password_too_short",
            )

    def get_help_text(self):
        return f"密码至少需要 {self.min_length} 个字符。"


# --- Account security (issue 12): passwords people guess first ------------------------------
DEMO_PASSWORDS = {"jsx@2026demo"}  # published in the README and the demo's login hint
PROJECT_WORDS = ("jishengxie", "jsx")
SEQUENCES = (
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "!@#$%^&*()",
)
SEQUENCE_RUN = 5  # this many characters of a sequence in a row (either direction) refuse
REPEAT_RUN = 4  # this many times the same character in a row refuses
MIN_DISTINCT = 4  # fewer different characters than this refuse


@functools.cache
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (ü written v), from pypinyin's dictionary."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = unicodedata.normalize("NFD", reading.replace("ü", "v"))
            plain = "".join(c for c in plain if not unicodedata.combining(c))
            if plain.isascii() and plain.isalpha():
                syllables.add(plain.lower())
    return frozenset(syllables)


def is_pinyin(text: str) -> bool:
    """Whether the letters split wholly into pinyin syllables (zhangwei, woaini)."""
    syllables = pinyin_syllables()
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(
            reachable[start] and text[start:end] in syllables
            for start in range(max(0, end - 6), end)
        )
    return reachable[-1]


def _sequence_run(text: str) -> bool:
    for sequence in SEQUENCES:
        for source in (sequence, sequence[::-1]):
            for start in range(len(source) - SEQUENCE_RUN + 1):
                if source[start : start + SEQUENCE_RUN] in text:
                    return True
    return False


def _has_date(text: str) -> bool:
    for match in re.finditer(r"(?=(\d{8}))", text):
        digits = match.group(1)
        try:
            day = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            continue
        if 1900 <= day.year <= 2100:
            return True
    return False


class ChinesePatternValidator:
    """Refuses the published demo password, keyboard and number sequences, repeated
    characters, pinyin followed or preceded by digits (zhangwei123, woaini1314), dates written
    YYYYMMDD, and the platform's own names (jsx, jishengxie)."""

    def validate(self, password, user=None):
        lowered = password.lower()
        if lowered in DEMO_PASSWORDS:
            raise ValidationError("这是公开的演示密码,不能使用。", code="password_demo")
        for word in PROJECT_WORDS:
            if word in lowered:
                raise ValidationError(
                    "密码不能包含本平台的名称(如 jsx、jishengxie)。", code="password_project_word"
                )
        if _sequence_run(lowered):
            raise ValidationError(
                "密码不能包含连续的数字、字母或键盘顺序(如 12345、abcde、qwert)。",
                code="password_sequence",
            )
        if re.search(rf"(.)\1{{{REPEAT_RUN - 1},}}", lowered) or len(set(lowered)) < MIN_DISTINCT:
            raise ValidationError(
                "密码不能由重复的字符组成(如 aaaa、1111)。", code="password_repeat"
            )
        core = re.sub(r"[^a-z0-9]", "", lowered)
        match = re.fullmatch(r"([a-z]{2,})(\d+)|(\d+)([a-z]{2,})", core)
        if match and is_pinyin(match.group(1) or match.group(4)):
            raise ValidationError(
                "密码不能是拼音加数字(如 zhangwei123、woaini1314),请混用大小写字母、数字和符号。",
                code="password_pinyin_digits",
            )
        if _has_date(lowered):
            raise ValidationError("密码不能包含日期(如生日 19850312)。", code="password_date")

    def get_help_text(self):
        return "不能使用演示密码、连续或重复的字符、拼音加数字、日期或本平台名称。"


class PersonalInfoValidator:
    """Refuses a password that contains the account's username or phone number."""

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.lower()
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and username in lowered:
            raise ValidationError("密码不能包含用户名。", code="password_has_username")
        phone = re.sub(r"\D", "", getattr(user, "phone", "") or "")
        digits = re.sub(r"\D", "", password)
        if len(phone) >= 6 and (phone in digits or phone[-8:] in digits):
            raise ValidationError("密码不能包含手机号码。", code="password_has_phone")

    def get_help_text(self):
        return "密码不能包含用户名或手机号码。"
