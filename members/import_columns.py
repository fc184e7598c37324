"""What a roster import reads: the kinds of roster and their columns (the header variants
villages write), the stable codes of row problems with their Chinese labels, the allowed
values of each column, and the parsing of one cell (dates, names, choices, group numbers).
Nothing here touches the database."""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from associations.models import Association, Level
from households import identity
from households.categories import Relation
from households.models import ETHNICITIES, MaritalStatus, Residency, Sex

from . import import_files
from .import_files import ColumnSpec, as_text
from .models import ElderKind, MemberCategory

KIND_MEMBERS = "members"
KIND_HOUSEHOLDS = "households"

# --- stable row codes -------------------------------------------------------------------------

ID_EMPTY = "ID_EMPTY"
ID_CHARS = "ID_CHARS"
ID_LENGTH = "ID_LENGTH"
ID_CHECKSUM = "ID_CHECKSUM"
ID_BIRTH_DATE = "ID_BIRTH_DATE"
ID_FUTURE_BIRTH = "ID_FUTURE_BIRTH"
ID_REGION = "ID_REGION"
ID_NUMERIC_CELL = "ID_NUMERIC_CELL"
ID_BIRTH_MISMATCH = "ID_BIRTH_MISMATCH"
ID_SEX_MISMATCH = "ID_SEX_MISMATCH"
NAME_MISMATCH = "NAME_MISMATCH"
PERSON_ELSEWHERE = "PERSON_ELSEWHERE"
PERSON_DECEASED = "PERSON_DECEASED"
PHONE_INVALID = "PHONE_INVALID"
DATE_INVALID = "DATE_INVALID"
REQUIRED = "REQUIRED"
CHOICE_INVALID = "CHOICE_INVALID"
VILLAGE_UNKNOWN = "VILLAGE_UNKNOWN"
GROUP_UNKNOWN = "GROUP_UNKNOWN"
GROUP_AMBIGUOUS = "GROUP_AMBIGUOUS"
DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
ALREADY_MEMBER_ELSEWHERE = "ALREADY_MEMBER_ELSEWHERE"
MEMBER_NUMBER_TAKEN = "MEMBER_NUMBER_TAKEN"
HEAD_TAKEN = "HEAD_TAKEN"
MOTHER_NOT_FOUND = "MOTHER_NOT_FOUND"
MOTHER_NOT_FEMALE = "MOTHER_NOT_FEMALE"
MOTHER_TOO_YOUNG = "MOTHER_TOO_YOUNG"
MOTHER_SELF = "MOTHER_SELF"
MARITAL_REQUIRED = "MARITAL_REQUIRED"
TOO_LONG = "TOO_LONG"
UNKNOWN_COLUMN = "UNKNOWN_COLUMN"  # a warning about the file, not an error of a row
ID_UPGRADED = "ID_UPGRADED"  # a notice: old 15-digit numbers read as their 18-digit form
DATABASE_ERROR = "DATABASE_ERROR"  # the database refused the write: nothing was written

ROW_CODES = {
    ID_EMPTY: "身份证号码为空",
    ID_CHARS: "身份证号码含有不允许的字符",
    ID_LENGTH: "身份证号码位数不对",
    ID_CHECKSUM: "身份证号码校验位不正确",
    ID_BIRTH_DATE: "身份证号码中的出生日期不存在",
    ID_FUTURE_BIRTH: "身份证号码中的出生日期晚于今天",
    ID_REGION: "身份证号码的地区代码无效",
    ID_NUMERIC_CELL: "身份证号码被 Excel 存成了数字",
    ID_BIRTH_MISMATCH: "出生日期与身份证号码不一致",
    ID_SEX_MISMATCH: "性别与身份证号码不一致",
    NAME_MISMATCH: "该身份证号码在本县登记的姓名不同",
    PERSON_ELSEWHERE: "此人登记在其他村(社区)",
    PERSON_DECEASED: "此人已登记为去世",
    PHONE_INVALID: "电话号码格式不正确",
    DATE_INVALID: "日期无效",
    REQUIRED: "必填项为空",
    CHOICE_INVALID: "不是可选的值",
    VILLAGE_UNKNOWN: "找不到该村(社区)",
    GROUP_UNKNOWN: "找不到该会员小组",
    GROUP_AMBIGUOUS: "会员小组不明确",
    DUPLICATE_IN_FILE: "同一身份证号码在文件中出现多次",
    ALREADY_MEMBER_ELSEWHERE: "已是本县其他协会的会员",
    MEMBER_NUMBER_TAKEN: "会员证号已被使用",
    HEAD_TAKEN: "该户已有户主",
    MOTHER_NOT_FOUND: "找不到母亲",
    MOTHER_NOT_FEMALE: "母亲的性别不是女",
    MOTHER_TOO_YOUNG: "母亲比子女年长不足 12 岁",
    MOTHER_SELF: "母亲不能是本人",
    MARITAL_REQUIRED: "新登记的人员未填写婚姻状况",
    TOO_LONG: "内容过长",
    UNKNOWN_COLUMN: "有未导入的列",
    ID_UPGRADED: "15 位身份证号码已升级为 18 位",
    DATABASE_ERROR: "数据库拒绝写入",
    **import_files.FILE_CODES,
}

IDENTITY_CODES = {
    identity.ID_EMPTY: ID_EMPTY,
    identity.ID_CHARS: ID_CHARS,
    identity.ID_LENGTH: ID_LENGTH,
    identity.ID_CHECKSUM: ID_CHECKSUM,
    identity.ID_BIRTH_DATE: ID_BIRTH_DATE,
    identity.ID_FUTURE_BIRTH: ID_FUTURE_BIRTH,
    identity.ID_TOO_OLD: ID_BIRTH_DATE,
    identity.ID_REGION: ID_REGION,
}
NUMERIC_ID_MESSAGE = "身份证号码被 Excel 存成了数字,末尾几位已丢失,请将该列设为文本后重新填写。"


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    column: str  # the column's header as written in the file
    code: str
    message: str
    field: str = ""  # the column's key (for placing the problem in the error workbook)

    def as_dict(self) -> dict:
        return {
            "row": self.row_number,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class IdUpgrade:
    """An old 15-digit number of the file and the 18-digit number it was read as, both masked:
    the preview names them without showing anyone's full number."""

    row_number: int
    old: str
    new: str

    def as_dict(self) -> dict:
        return {"row": self.row_number, "old": self.old, "new": self.new}


# --- columns ----------------------------------------------------------------------------------

NAME = ColumnSpec("name", "姓名", ("会员姓名", "人员姓名", "名字"), required=True)
SEX = ColumnSpec("sex", "性别", help="男 或 女;可不填,按身份证号码确定")
ID_NUMBER = ColumnSpec(
    "id_number",
    "身份证号码",
    (
        "身份证号",
        "公民身份号码",
        "公民身份证号码",
        "居民身份证号码",
        "身份证件号码",
        "证件号码",
        "身份证",
    ),
    required=True,
    text=True,
    help="18 位;单元格须为文本格式",
)
BIRTH_DATE = ColumnSpec(
    "birth_date", "出生日期", ("出生年月", "出生年月日", "生日"), help="可不填,按身份证号码确定"
)
ETHNICITY = ColumnSpec("ethnicity", "民族", help="例如 汉族")
PHONE = ColumnSpec(
    "phone",
    "联系电话",
    ("手机号", "手机号码", "手机", "电话", "电话号码", "联系方式", "联系电话(手机)"),
    text=True,
)
ADDRESS = ColumnSpec("address", "住址", ("家庭住址", "现住址", "地址", "居住地址"))
HOUSEHOLD_NUMBER = ColumnSpec(
    "household_number", "户编号", ("户号", "家庭户编号", "户籍编号"), text=True
)
RELATION = ColumnSpec("relation_to_head", "与户主关系", ("户主关系", "与户主的关系", "关系"))
VILLAGE = ColumnSpec(
    "village",
    "所属村(社区)",
    ("所属村", "村(社区)", "村(居)", "所在村", "村名", "村居", "村", "社区", "村(社区)名称"),
    text=True,
    help="村(社区)名称或 12 位区划代码",
)
GROUP = ColumnSpec(
    "group",
    "会员小组",
    ("所属小组", "所属会员小组", "小组", "组别", "村民小组"),
    text=True,
    help="小组名称或 15 位代码",
)
MEMBER_NUMBER = ColumnSpec(
    "member_number", "会员证号", ("会员证号码", "会员证编号", "会员编号", "会员号"), text=True
)
JOINED_ON = ColumnSpec("joined_on", "入会日期", ("入会时间", "入会年月"))
CATEGORIES = ColumnSpec(
    "categories", "会员类别", ("类别", "会员类型"), help="可填多个,用顿号(、)或逗号分开"
)
ELDER_KIND = ColumnSpec("elder_kind", "五老类别", ("五老",))
BACKBONE = ColumnSpec("is_backbone", "骨干会员", ("是否骨干会员", "是否骨干", "骨干"), help="是/否")
RESIDENCY = ColumnSpec("residency", "户籍状态", ("户籍类型", "居住状态", "人口类型"))
MARITAL_LABELS = "、".join(label for _value, label in MaritalStatus.choices)
MARITAL = ColumnSpec(
    "marital_status",
    "婚姻状况",
    ("婚姻状态", "婚姻"),
    help=f"新登记的人员必填,已登记的人员可不填;可填 {MARITAL_LABELS}",
)
MOTHER_ID = ColumnSpec(
    "mother_id_number",
    "母亲身份证号码",
    ("母亲身份证号", "母亲公民身份号码", "母亲证件号码", "生母身份证号码", "生母身份证号"),
    text=True,
    help="可不填。填写时须为本县已登记或本文件中的女性,且比本人年长 12 岁以上",
)
# A mother is at least this much older than her child: a younger one is a typing mistake.
MOTHER_MIN_AGE_GAP = 12

MEMBER_COLUMNS = [
    NAME,
    SEX,
    ID_NUMBER,
    BIRTH_DATE,
    ETHNICITY,
    PHONE,
    ADDRESS,
    MARITAL,
    HOUSEHOLD_NUMBER,
    RELATION,
    VILLAGE,
    GROUP,
    MEMBER_NUMBER,
    JOINED_ON,
    CATEGORIES,
    ELDER_KIND,
    BACKBONE,
]
HOUSEHOLD_COLUMNS = [
    ColumnSpec(
        HOUSEHOLD_NUMBER.key,
        HOUSEHOLD_NUMBER.header,
        HOUSEHOLD_NUMBER.variants,
        required=True,
        text=True,
    ),
    NAME,
    ID_NUMBER,
    ColumnSpec(RELATION.key, RELATION.header, RELATION.variants, required=True),
    SEX,
    BIRTH_DATE,
    ETHNICITY,
    PHONE,
    ADDRESS,
    RESIDENCY,
    MARITAL,
    VILLAGE,
    GROUP,
    MOTHER_ID,
]

# --- allowed values ---------------------------------------------------------------------------

SEX_VALUES = {"男": Sex.MALE, "女": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE}
ETHNICITY_VALUES = {name: code for code, name in ETHNICITIES}
ETHNICITY_VALUES.update({name.removesuffix("族"): code for code, name in ETHNICITIES})
ETHNICITY_VALUES.update({code: code for code, _name in ETHNICITIES})
ETHNICITY_VALUES.update({str(int(code)): code for code, _name in ETHNICITIES})
RELATION_VALUES = {label: value for value, label in Relation.choices}
RELATION_VALUES.update(
    {
        "本人": Relation.HEAD,
        "妻": Relation.SPOUSE,
        "妻子": Relation.SPOUSE,
        "夫": Relation.SPOUSE,
        "丈夫": Relation.SPOUSE,
        "儿子": Relation.SON,
        "长子": Relation.SON,
        "次子": Relation.SON,
        "三子": Relation.SON,
        "女儿": Relation.DAUGHTER,
        "长女": Relation.DAUGHTER,
        "次女": Relation.DAUGHTER,
        "三女": Relation.DAUGHTER,
        "父亲": Relation.PARENT,
        "母亲": Relation.PARENT,
        "父": Relation.PARENT,
        "母": Relation.PARENT,
        "孙子": Relation.GRANDCHILD,
        "孙女": Relation.GRANDCHILD,
        "外孙子": Relation.GRANDCHILD,
        "外孙女": Relation.GRANDCHILD,
        "兄": Relation.SIBLING,
        "弟": Relation.SIBLING,
        "姐": Relation.SIBLING,
        "妹": Relation.SIBLING,
        "儿媳": Relation.CHILD_IN_LAW,
        "女婿": Relation.CHILD_IN_LAW,
    }
)
RESIDENCY_VALUES = {label: value for value, label in Residency.choices}
RESIDENCY_VALUES.update(
    {"常住": Residency.REGISTERED, "户籍": Residency.REGISTERED, "户籍人口": Residency.REGISTERED}
)
RESIDENCY_VALUES.update({"流入人口": Residency.INFLOW, "流出人口": Residency.OUTFLOW})
MARITAL_VALUES = {label: value for value, label in MaritalStatus.choices}
MARITAL_VALUES.update({"初婚": MaritalStatus.MARRIED, "再婚": MaritalStatus.MARRIED})
CATEGORY_VALUES = {label: value for value, label in MemberCategory.choices}
CATEGORY_VALUES.update(
    {"五老人员": MemberCategory.ELDER, "积极分子": MemberCategory.FERTILE_ACTIVIST}
)
ELDER_VALUES = {label: value for value, label in ElderKind.choices}
YES_NO = {
    "是": True,
    "否": False,
    "Y": True,
    "N": False,
    "YES": True,
    "NO": False,
    "√": True,
    "×": False,
    "1": True,
    "0": False,
    "TRUE": True,
    "FALSE": False,
}
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

# The template's example rows: skipped when left exactly as they are.
EXAMPLE_ID = "130534199003070032"
MEMBER_EXAMPLE = {
    "name": "张三(示例)",
    "sex": "男",
    "id_number": EXAMPLE_ID,
    "birth_date": "1990-03-07",
    "ethnicity": "汉族",
    "phone": "13812345678",
    "address": "示例村 1 号",
    "marital_status": "已婚",
    "household_number": "",
    "relation_to_head": "",
    "village": "",
    "group": "",
    "member_number": "",
    "joined_on": "2024-05-29",
    "categories": "育龄群众积极分子、志愿者",
    "elder_kind": "",
    "is_backbone": "否",
}
HOUSEHOLD_EXAMPLE = {
    "household_number": "0001",
    "name": "张三(示例)",
    "id_number": EXAMPLE_ID,
    "relation_to_head": "户主",
    "sex": "男",
    "birth_date": "1990-03-07",
    "ethnicity": "汉族",
    "phone": "13812345678",
    "address": "示例村 1 号",
    "residency": "户籍常住",
    "marital_status": "已婚",
    "village": "",
    "group": "",
    "mother_id_number": "",
}


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str
    sheet_title: str
    columns: list[ColumnSpec]
    example: dict[str, str]

    def columns_for(self, target: Association) -> list[ColumnSpec]:
        """The village column is required unless the import goes into one village."""
        if target.level == Level.VILLAGE:
            return self.columns
        return [
            ColumnSpec(c.key, c.header, c.variants, True, c.text, c.help) if c is VILLAGE else c
            for c in self.columns
        ]


KINDS = {
    KIND_MEMBERS: ImportKind(KIND_MEMBERS, "会员名册", "会员名册", MEMBER_COLUMNS, MEMBER_EXAMPLE),
    KIND_HOUSEHOLDS: ImportKind(
        KIND_HOUSEHOLDS, "家庭户成员名册", "家庭户成员", HOUSEHOLD_COLUMNS, HOUSEHOLD_EXAMPLE
    ),
}


# --- value parsing ----------------------------------------------------------------------------


class CellError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_MONTH_PATTERNS = [re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), re.compile(r"^(\d{4})(\d{2})$")]
EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_date(value, *, month_ok: bool = False) -> tuple[datetime.date, bool] | None:
    """(date, day_known) or None for an empty cell; CellError(DATE_INVALID) otherwise. Accepts
    Excel dates, Excel serial numbers, 2020-05-29, 2020/5/29, 2020.5.29, 20200529,
    2020年5月29日 and, with ``month_ok``, a year and month (1980.01, 1980年1月)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date(), True
    if isinstance(value, datetime.date):
        return value, True
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 80000:
            return EXCEL_EPOCH + datetime.timedelta(days=int(value)), True
        text = as_text(value)
    else:
        text = as_text(value)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(*map(int, match.groups())), True
            except ValueError:
                break
    if month_ok:
        for pattern in _MONTH_PATTERNS:
            match = pattern.match(text)
            if match and 1 <= int(match.group(2)) <= 12:
                return datetime.date(int(match.group(1)), int(match.group(2)), 1), False
    raise CellError(DATE_INVALID, f"“{text}”不是有效的日期,请写成 2020-05-29 的形式。")


def clean_name(value) -> str:
    """Names keep their characters; the spaces rosters put inside two-character Chinese names
    (“张  三”) go."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return "".join(text.split()) if _CJK.search(text) else " ".join(text.split())


def choice(value, values: dict, label: str):
    text = as_text(value)
    key = text.upper() if text.isascii() else text
    if key in values:
        return values[key]
    shown = "、".join(list(dict.fromkeys(values))[:12])
    raise CellError(CHOICE_INVALID, f"“{text}”不是有效的{label}。可填:{shown}。")


# How villagers write a group: 第一会员小组, 第一小组, 一组, 1组, 第1组, 一小组, 第一村民小组, 3.
_NUMBERED_GROUP = re.compile(
    r"^第?(?P<number>\d{1,3}|[〇零一二三四五六七八九十廿百]{1,5})(?:(?:会员|村民)?小?组)?$"
)
MAX_GROUP_NUMBER = 999
GROUP_NAMES_SHOWN = 12


@functools.lru_cache(maxsize=4096)
def group_number(text: str) -> int | None:
    """The number in a group's name (第十二会员小组 -> 12, 3组 -> 3), or None when the name is
    not a numbered group's."""
    match = _NUMBERED_GROUP.match("".join(unicodedata.normalize("NFKC", text).split()))
    if match is None:
        return None
    numeral = match.group("number")
    if numeral.isdigit():
        number = int(numeral)
    else:
        import cn2an  # imported on first use: it takes a tenth of a second

        try:
            # Strict: 十二 and 一十二 are 12; a run of digits like 一二 is not a numeral.
            number = cn2an.cn2an(numeral, "strict")
        except ValueError:
            return None
    number = int(number)
    return number if 1 <= number <= MAX_GROUP_NUMBER else None


def group_names_listed(groups: list[Association]) -> str:
    names = [g.name for g in groups[:GROUP_NAMES_SHOWN]]
    more = f"等 {len(groups)} 个" if len(groups) > GROUP_NAMES_SHOWN else ""
    return "、".join(names) + more


def parse_categories(value) -> tuple[list[str], str]:
    """Categories and, when a 五老 kind is written among them (老党员), that kind."""
    categories: set[str] = set()
    elder_kind = ""
    unknown = []
    for part in LIST_SEPARATORS.split(as_text(value)):
        if not part:
            continue
        if part in CATEGORY_VALUES:
            categories.add(CATEGORY_VALUES[part])
        elif part in ELDER_VALUES:
            categories.add(MemberCategory.ELDER)
            elder_kind = elder_kind or ELDER_VALUES[part]
        else:
            unknown.append(part)
    if unknown:
        raise CellError(
            CHOICE_INVALID,
            f"“{'、'.join(unknown)}”不是有效的会员类别。可填:"
            f"{'、'.join(label for _v, label in MemberCategory.choices)}。",
        )
    return sorted(categories), elder_kind
