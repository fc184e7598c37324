"""What the roster imports read about persons, households and places (家庭户成员名册, and the
person columns of 会员名册): the columns and their header variants, the allowed values, the
row codes with their Chinese labels, the template notes both rosters share, and the parsing
of names and group numbers. Nothing here touches the database."""

from __future__ import annotations

import functools
import re
import unicodedata

from associations.imports import AllowedValues, ColumnSpec
from associations.models import Association, Level

from . import identity
from .categories import Relation
from .models import ETHNICITIES, MaritalStatus, RegistrationKind, Residency, Sex

# --- row codes --------------------------------------------------------------------------------

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
PHONE_INVALID = "PHONE_INVALID"
VILLAGE_UNKNOWN = "VILLAGE_UNKNOWN"
GROUP_UNKNOWN = "GROUP_UNKNOWN"
GROUP_AMBIGUOUS = "GROUP_AMBIGUOUS"
DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
HEAD_TAKEN = "HEAD_TAKEN"
MOTHER_NOT_FOUND = "MOTHER_NOT_FOUND"
MOTHER_NOT_FEMALE = "MOTHER_NOT_FEMALE"
MOTHER_TOO_YOUNG = "MOTHER_TOO_YOUNG"
MOTHER_SELF = "MOTHER_SELF"
MARITAL_REQUIRED = "MARITAL_REQUIRED"

PERSON_CODES = {
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
    PHONE_INVALID: "电话号码格式不正确",
    VILLAGE_UNKNOWN: "找不到该村(社区)",
    GROUP_UNKNOWN: "找不到该会员小组",
    GROUP_AMBIGUOUS: "会员小组不明确",
    DUPLICATE_IN_FILE: "同一身份证号码在文件中出现多次",
    HEAD_TAKEN: "该户已有户主",
    MOTHER_NOT_FOUND: "找不到母亲",
    MOTHER_NOT_FEMALE: "母亲的性别不是女",
    MOTHER_TOO_YOUNG: "母亲比子女年长不足 12 岁",
    MOTHER_SELF: "母亲不能是本人",
    MARITAL_REQUIRED: "新登记的人员未填写婚姻状况",
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

# What a database refusal of a person or household means, in words (see
# associations.imports.dberrors): the constraint -> (cause, column to mark).
PERSON_CONSTRAINTS = {
    "person_id_unique_in_county": (
        "该身份证号码的人员已由他人同时录入,与本文件的这一行重复",
        "id_number",
    ),
    "household_number_unique_in_village": (
        "该户编号的家庭户已由他人同时建立,与本文件的这一行重复",
        "household_number",
    ),
    "person_in_village": ("人员必须属于一个村(社区)", "village"),
    "household_in_village": ("家庭户必须属于一个村(社区)", "village"),
}

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
RESIDENCY = ColumnSpec("residency", "户籍状态", ("户籍类型", "居住状态", "人口类型"))
REGISTRATION_KIND = ColumnSpec(
    "registration_kind",
    "户口性质",
    ("户口类型", "户口类别", "户籍性质"),
    help="可不填;农业户口 或 非农业户口(奖励扶助等项目按此审核)",
)
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
    REGISTRATION_KIND,
    MARITAL,
    VILLAGE,
    GROUP,
    MOTHER_ID,
]


def village_required_above_villages(node: Association, columns: list[ColumnSpec]):
    """The village column is required unless the import goes into one village."""
    if node.level == Level.VILLAGE:
        return columns
    return [
        ColumnSpec(c.key, c.header, c.variants, True, c.text, c.help) if c is VILLAGE else c
        for c in columns
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
REGISTRATION_KIND_VALUES = {label: value for value, label in RegistrationKind.choices}
REGISTRATION_KIND_VALUES.update(
    {
        "农业": RegistrationKind.AGRICULTURAL,
        "农村户口": RegistrationKind.AGRICULTURAL,
        "非农业": RegistrationKind.NON_AGRICULTURAL,
        "非农": RegistrationKind.NON_AGRICULTURAL,
        "城镇户口": RegistrationKind.NON_AGRICULTURAL,
    }
)
MARITAL_VALUES = {label: value for value, label in MaritalStatus.choices}
MARITAL_VALUES.update({"初婚": MaritalStatus.MARRIED, "再婚": MaritalStatus.MARRIED})
_CJK = re.compile(r"[\u3400-\u9fff]")


def person_allowed_values() -> list[AllowedValues]:
    """The template's drop-downs of the person columns."""
    return [
        AllowedValues("性别", ["男", "女"], "sex"),
        AllowedValues("民族", [name for _code, name in ETHNICITIES], "ethnicity"),
        AllowedValues("与户主关系", [label for _v, label in Relation.choices], "relation_to_head"),
        AllowedValues("户籍状态", [label for _v, label in Residency.choices], "residency"),
        AllowedValues(
            "户口性质", [label for _v, label in RegistrationKind.choices], "registration_kind"
        ),
        AllowedValues("婚姻状况", [label for _v, label in MaritalStatus.choices], "marital_status"),
    ]


# The template's example rows: skipped when left exactly as they are.
EXAMPLE_ID = "130534199003070032"
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
    "registration_kind": "农业户口",
    "marital_status": "已婚",
    "village": "",
    "group": "",
    "mother_id_number": "",
}

ROSTER_NOTES = [
    "1. 第 1 行是表头,请勿修改列名;红色列名为必填项。"
    "第 2 行是示例,可直接覆盖或删除(保留原样时导入会跳过它)。",
    "2. 身份证号码列已设为“文本”格式。请勿把身份证号码存成数字:Excel 只保留 15 位有效数字,"
    "末尾几位会丢失,导入时这样的行会被拒绝。",
    "3. 性别、出生日期可不填,系统按身份证号码确定;填写时须与身份证号码一致。"
    "婚姻状况:新登记的人员必须填写,已登记的人员可不填。",
    "4. 所属村(社区)填写名称或 12 位区划代码;在村(社区)页面导入时可不填。"
    "会员小组填写小组名称或 15 位代码。",
    "5. 会员类别可填多个,用顿号(、)或逗号分开;填写五老类别时会自动加上“五老”类别。",
    "6. 会员证号可不填,系统按本村现有最大号码依次编号。",
    "7. 留空的单元格不会清除系统中已有的内容;同一文件重复导入不会产生重复数据。",
    "8. 导入前系统会先完整校验全部行并给出预览;有问题的行会在“下载错误标注文件”中标红并注明原因,"
    "改正后重新上传即可。确认导入时要么全部导入,要么全部不导入。",
]
HOUSEHOLD_NOTES = [
    "9. 母亲身份证号码可不填。填写时,母亲须是本县已登记的人或写在本文件中(前后行均可),"
    "性别为女,且比本人年长 12 岁以上;统计孩次时按母亲计算。",
]

# --- value parsing ----------------------------------------------------------------------------


def clean_name(value) -> str:
    """Names keep their characters; the spaces rosters put inside two-character Chinese names
    (“张  三”) go."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return "".join(text.split()) if _CJK.search(text) else " ".join(text.split())


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
