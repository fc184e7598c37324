"""National programme templates (国家项目模板): the defaults a county starts a programme from.

The amounts are the national standards of the seeds' years (seed 001: 奖励扶助 114 persons,
82,080 yuan = 720 a person a year; 特扶 14 persons, 14,880 yuan = 8 disabled-child parents at
960 and 6 bereaved parents at 1,200 a year). Every amount, share and condition is the county's
to change: a template only fills the new programme's form."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from households.categories import Category, Relation

from .eligibility import AgeOn, Rule
from .models import BeneficiaryKind, Frequency, ProgramKind, ProgramTemplate

PARENTS = [Relation.HEAD.value, Relation.SPOUSE.value]
REGISTERED_HERE = ["registered", "outflow"]  # 户籍在本县: 户籍常住 and 流出
# The two national allowances' shares of 中央和地方财政 (a county changes them to its own).
PUBLIC_SHARES = [
    {"source": "中央财政", "percent": 50},
    {"source": "省级财政", "percent": 30},
    {"source": "县级财政", "percent": 20},
]


@dataclass(frozen=True)
class Template:
    key: str
    kind: str
    frequency: str
    beneficiary_kind: str
    standard_amount: Decimal
    rule: dict
    rates: list[dict] = field(default_factory=list)
    funding_source: str = ""
    funding_split: list[dict] = field(default_factory=list)
    needs_notice: bool = True
    notice_days: int = 7
    note: str = ""

    @property
    def name(self) -> str:
        return str(ProgramTemplate(self.key).label)

    def initial(self) -> dict:
        """The programme form's initial values (the rule's as its own fields)."""
        return {
            "name": self.name,
            "template": self.key,
            "kind": self.kind,
            "frequency": self.frequency,
            "beneficiary_kind": self.beneficiary_kind,
            "standard_amount": self.standard_amount,
            "funding_source": self.funding_source,
            "needs_notice": self.needs_notice,
            "notice_days": self.notice_days,
            "is_active": True,
        }


def _rule(**conditions) -> dict:
    return Rule.from_json(conditions).to_json()


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in [
        Template(
            key=ProgramTemplate.REWARD_ASSISTANCE,
            kind=ProgramKind.ALLOWANCE,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("720.00"),
            rule=_rule(
                categories=[Category.ONE_CHILD, Category.TWO_DAUGHTERS, Category.BEREAVED],
                relations=PARENTS,
                min_age=60,
                age_on=AgeOn.YEAR_END,
                residencies=REGISTERED_HERE,
                registration_kind="agricultural",
            ),
            funding_source="中央和地方财政",
            funding_split=PUBLIC_SHARES,
            note="农业户口、只有一个子女或两个女孩(或子女死亡现无子女)的夫妻,年满 60 周岁"
            "(以当年 12 月 31 日计),每人每年 720 元。",
        ),
        Template(
            key=ProgramTemplate.SPECIAL_ASSISTANCE,
            kind=ProgramKind.ALLOWANCE,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("960.00"),
            rule=_rule(
                categories=[Category.BEREAVED, Category.DISABLED_CHILD],
                relations=PARENTS,
                mother_min_age=49,
                residencies=REGISTERED_HERE,
            ),
            rates=[
                {"category": Category.DISABLED_CHILD.value, "label": "伤残", "amount": "960.00"},
                {"category": Category.BEREAVED.value, "label": "死亡", "amount": "1200.00"},
            ],
            funding_source="中央和地方财政",
            funding_split=PUBLIC_SHARES,
            note="独生子女死亡或伤残(三级以上)的夫妻,女方年满 49 周岁;伤残、死亡分别定标准。",
        ),
        Template(
            key=ProgramTemplate.ONLY_CHILD_REWARD,
            kind=ProgramKind.ALLOWANCE,
            frequency=Frequency.MONTHLY,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("10.00"),
            rule=_rule(
                categories=[Category.ONE_CHILD],
                relations=PARENTS,
                certificate=True,
                child_max_age=17,
                age_on=AgeOn.TODAY,
            ),
            funding_source="县级财政与所在单位",
            needs_notice=False,
            note="领取独生子女父母光荣证的夫妻,子女未满 18 周岁,按月发放。",
        ),
        Template(
            key=ProgramTemplate.ACCIDENT_INSURANCE,
            kind=ProgramKind.INSURANCE,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.HOUSEHOLD,
            standard_amount=Decimal("100.00"),
            rule=_rule(
                categories=[
                    Category.ONE_CHILD,
                    Category.TWO_DAUGHTERS,
                    Category.BEREAVED,
                    Category.DISABLED_CHILD,
                ]
            ),
            funding_source="县计生协",
            needs_notice=False,
            note="计生家庭意外伤害保险,按户每年缴纳保费。",
        ),
        Template(
            key=ProgramTemplate.GOLDEN_AUTUMN,
            kind=ProgramKind.GRANT,
            frequency=Frequency.ONE_OFF,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("2000.00"),
            rule=_rule(
                relations=[Relation.SON.value, Relation.DAUGHTER.value],
                min_age=16,
                max_age=24,
                hardship=True,
            ),
            funding_source="生育关怀基金",
            note="计生困难家庭考入大学的子女,一次性资助。",
        ),
        Template(
            key=ProgramTemplate.GIRL_SCHOOL_AID,
            kind=ProgramKind.GRANT,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("500.00"),
            rule=_rule(
                categories=[Category.ONE_CHILD, Category.TWO_DAUGHTERS],
                relations=[Relation.DAUGHTER.value],
                sex="female",
                min_age=6,
                max_age=18,
                hardship=True,
            ),
            funding_source="生育关怀基金",
            note="独女户、双女户困难家庭在校女孩的学费资助。",
        ),
        Template(
            key=ProgramTemplate.HAPPINESS_PROJECT,
            kind=ProgramKind.LOAN,
            frequency=Frequency.ONE_OFF,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("5000.00"),
            rule=_rule(sex="female", min_age=18, max_age=55, hardship=True),
            funding_source="幸福工程循环金",
            note="贫困母亲小额贴息贷款,还款后循环使用。",
        ),
        Template(
            key=ProgramTemplate.FEWER_BIRTHS_LOAN,
            kind=ProgramKind.LOAN,
            frequency=Frequency.ONE_OFF,
            beneficiary_kind=BeneficiaryKind.HOUSEHOLD,
            standard_amount=Decimal("5000.00"),
            rule=_rule(categories=[Category.ONE_CHILD, Category.TWO_DAUGHTERS]),
            funding_source="少生快富循环金",
            note="计生家庭发展生产的小额贷款。",
        ),
        Template(
            key=ProgramTemplate.HOLIDAY_VISIT,
            kind=ProgramKind.IN_KIND,
            frequency=Frequency.YEARLY,
            beneficiary_kind=BeneficiaryKind.HOUSEHOLD,
            standard_amount=Decimal("500.00"),
            rule=_rule(categories=[Category.BEREAVED, Category.DISABLED_CHILD]),
            funding_source="生育关怀基金",
            needs_notice=False,
            note="春节等节日走访慰问计生特殊家庭,慰问金或物品。",
        ),
        Template(
            key=ProgramTemplate.OTHER,
            kind=ProgramKind.GRANT,
            frequency=Frequency.ONE_OFF,
            beneficiary_kind=BeneficiaryKind.PERSON,
            standard_amount=Decimal("0.00"),
            rule=_rule(),
            note="自定义项目:填写名称、标准和资格条件。",
        ),
    ]
}


def template_for(key: str | None) -> Template | None:
    return TEMPLATES.get(key or "")
