"""The candidates of a programme under a node (a village, a township or the county), judged
in bulk.

The rule (benefits.eligibility) is evaluated twice over, by design:
- in SQL, as one boolean per condition over the pool (the persons, or households, the rule is
  about), so that a county of 500,000 persons is counted and filtered by the database in one
  statement (``Evaluation.counts``, ``Evaluation.page``);
- in Python (``eligibility.decide``) for the rows shown or stored, from their facts read in a
  handful of set-based queries (``Evaluation.decisions``), which gives the reasons in Chinese.
tests/benefits/test_programs_eligibility.py holds the two to the same answers.

Every query goes through the scoped managers of the actor's scope; the node narrows it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet

from associations.models import Association, Level
from associations.scope import activate
from households.categories import Relation
from households.models import HardshipAssessment, Household, Person, Sex

from .eligibility import (
    CHILDREN,
    COUPLE,
    ChildCondition,
    Decision,
    Facts,
    Rule,
    born_by,
    decide,
    program_rule,
)
from .models import LIVE_ENROLLMENT, BeneficiaryKind, Program, ProgramRate
from .selectors import county_scope

IN_ROSTER = HardshipAssessment.Status.IN_ROSTER


def rates_of(program: Program) -> dict[str, ProgramRate]:
    """The programme's rates by category, in their order. Rates sit at the county node like
    their programme: read under the county's scope (a village's scope does not see them)."""
    with activate(county_scope(program.county_id)):
        return {rate.category: rate for rate in ProgramRate.objects.filter(program=program)}


class Show:
    """The candidates page's filter of rows."""

    APPLICABLE = "applicable"  # eligible and not applied for yet
    EXCLUDED = "excluded"
    ENROLLED = "enrolled"  # a live application or enrolment
    ALL = "all"
    CHOICES = [
        (APPLICABLE, "符合条件、可申报"),
        (EXCLUDED, "不符合条件"),
        (ENROLLED, "已申报或在册"),
        (ALL, "全部"),
    ]


@dataclass
class Counts:
    total: int = 0
    eligible: int = 0
    applicable: int = 0
    excluded: int = 0
    enrolled: int = 0


@dataclass
class Candidate:
    """One row of the candidates list, with its judgement."""

    facts: Facts
    decision: Decision
    name: str = ""
    id_number: str | None = None  # the stored value: callers mask it (households.masking)
    live_status: str = ""
    live_id: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def person_id(self) -> int | None:
        return self.facts.person_id

    @property
    def household_id(self) -> int | None:
        return self.facts.household_id

    @property
    def key(self) -> int:
        """The beneficiary's id: the person's, or the household's for a household programme."""
        return self.extra["key"]


class Evaluation:
    """A programme's rule at a node for a year: the pool, the conditions, the counts, a page
    and the decisions of given rows. ``restrict``: judge exactly these persons (or households)
    instead of the pool, whatever they are (the annual re-confirmation, an application)."""

    def __init__(
        self,
        *,
        program: Program,
        node: Association,
        year: int,
        today: datetime.date,
        rule: Rule | None = None,
        restrict: Iterable[int] | QuerySet | None = None,
    ):
        self.program = program
        self.node = node
        self.year = year
        self.today = today
        self.rule = rule if rule is not None else program_rule(program)
        self.ref = self.rule.reference_date(year=year, today=today)
        self.households = program.beneficiary_kind == BeneficiaryKind.HOUSEHOLD
        self.restrict = restrict
        self.rates = rates_of(program)
        self.rate_categories = list(self.rates)

    # --- the pool and the conditions in SQL ---

    def _within_node(self, queryset: QuerySet) -> QuerySet:
        if self.node.level == Level.COUNTY:
            return queryset  # the scope is the county, or narrower (never another county)
        return queryset.filter(**{f"{self.node.level}_id": self.node.pk})

    @cached_property
    def pool(self) -> QuerySet:
        rule = self.rule
        model = Household if self.households else Person
        queryset = self._within_node(model.objects.all())
        if self.restrict is not None:
            queryset = queryset.filter(pk__in=self.restrict)
        elif self.households:
            queryset = queryset.filter(Exists(self._living_members()))
            if rule.categories:
                queryset = queryset.filter(categories__overlap=list(rule.categories))
        else:
            queryset = queryset.filter(is_deceased=False, household__isnull=False)
            if rule.categories:
                queryset = queryset.filter(household__categories__overlap=list(rule.categories))
            if rule.relations:
                queryset = queryset.filter(relation_to_head__in=rule.relations)
            if rule.sex:
                queryset = queryset.filter(sex=rule.sex)
        live = Q(
            enrollments__program=self.program,
            enrollments__status__in=LIVE_ENROLLMENT,
        )
        if self.households:
            live &= Q(enrollments__person__isnull=True)
        return queryset.annotate(live=FilteredRelation("enrollments", condition=live))

    def _members(self) -> QuerySet:
        """The persons of the outer row's household."""
        key = "pk" if self.households else "household_id"
        return Person.objects.filter(household_id=OuterRef(key)).order_by()

    def _living_members(self) -> QuerySet:
        return Person.objects.filter(household_id=OuterRef("pk"), is_deceased=False).order_by()

    def conditions(self) -> Q:
        """The rule as one SQL condition over the pool's rows: true exactly when
        ``eligibility.decide`` finds the row eligible (never NULL)."""
        rule, ref = self.rule, self.ref
        # The person judged: the row itself, or the head of a household.
        p = "head__" if self.households else ""
        h = "" if self.households else "household__"
        q = Q()
        # The pool's own conditions hold for every row of the pool already: repeated, they
        # would only halve the planner's estimates (and make it sort the county for a page).
        judged_here = self.restrict is not None
        if judged_here:
            if self.households:
                q &= Q(Exists(self._living_members()))
            else:
                q &= Q(is_deceased=False) & Q(household__isnull=False)
        if rule.categories and judged_here:
            q &= Q(**{f"{h}categories__overlap": list(rule.categories)})
        if self.households and rule.person_conditions:
            q &= Q(head__isnull=False)
        if rule.relations and (judged_here or self.households):
            q &= Q(**{f"{p}relation_to_head__in": rule.relations})
        if rule.sex and (judged_here or self.households):
            q &= Q(**{f"{p}sex": rule.sex})
        if rule.min_age is not None:
            q &= Q(**{f"{p}birth_date__lte": born_by(ref, rule.min_age)})
        if rule.max_age is not None:
            q &= Q(**{f"{p}birth_date__gt": born_by(ref, rule.max_age + 1)})
            q &= Q(**{f"{p}birth_date__lte": ref})
        if rule.residencies:
            q &= Q(residency__in=rule.residencies)  # the household's own, or the person's
        if rule.registration_kind:
            q &= Q(**{f"{p}registration_kind": rule.registration_kind})
        if rule.disability_max_grade is not None:
            q &= Q(**{f"{p}disability_grade__isnull": False})
            q &= Q(**{f"{p}disability_grade__lte": rule.disability_max_grade})
        kids = self._members().filter(relation_to_head__in=CHILDREN)
        if rule.child:
            deceased = Exists(kids.filter(is_deceased=True))
            disabled = Exists(
                kids.filter(
                    is_deceased=False, disability_grade__lte=rule.child_disability_max_grade
                )
            )
            if rule.child == ChildCondition.DECEASED:
                q &= Q(deceased)
            elif rule.child == ChildCondition.DISABLED:
                q &= Q(disabled)
            else:
                q &= Q(deceased) | Q(disabled)
        if rule.child_max_age is not None:
            young = kids.filter(
                is_deceased=False,
                birth_date__gt=born_by(ref, rule.child_max_age + 1),
                birth_date__lte=ref,
            )
            q &= Q(Exists(young))
        if rule.mother_min_age is not None:
            women = self._members().filter(
                relation_to_head__in=COUPLE,
                sex=Sex.FEMALE,
                birth_date__lte=born_by(ref, rule.mother_min_age),
            )
            q &= Q(Exists(women))
        if rule.certificate:
            q &= Q(Exists(self._members().exclude(only_child_certificate_number="")))
        if rule.hardship:
            roster = HardshipAssessment.objects.filter(
                household_id=OuterRef("pk" if self.households else "household_id"),
                year=self.year,
                status=IN_ROSTER,
            ).order_by()
            q &= Q(Exists(roster))
        return q

    # --- counting and paging ---

    def counts(self) -> Counts:
        eligible = self.conditions()
        live = Q(live__id__isnull=False)
        row = self.pool.order_by().aggregate(
            total=Count("pk"),
            eligible=Count("pk", filter=eligible),
            applicable=Count("pk", filter=eligible & ~live),
            enrolled=Count("pk", filter=live),
        )
        return Counts(excluded=row["total"] - row["eligible"], **row)

    def filtered(self, *, show: str = Show.ALL, village: int | None = None) -> QuerySet:
        queryset = self.pool
        if village is not None:
            queryset = queryset.filter(village_id=village)
        if show == Show.APPLICABLE:
            queryset = queryset.filter(self.conditions(), live__id__isnull=True)
        elif show == Show.EXCLUDED:
            conditions = self.conditions()
            # No condition beyond the pool's: nobody of the pool is excluded.
            queryset = queryset.exclude(conditions) if conditions else queryset.none()
        elif show == Show.ENROLLED:
            queryset = queryset.filter(live__id__isnull=False)
        if self.households:
            return queryset.order_by("village_id", "number", "id")
        return queryset.order_by("village_id", "household_id", "birth_date", "id")

    def rows(self, queryset: QuerySet) -> list[dict]:
        """The rows' own columns (one query; a slice of ``filtered`` for a page)."""
        # The person judged (the row, or a household's head) and their household, as in
        # ``conditions``.
        p = "head__" if self.households else ""
        h = "" if self.households else "household__"
        columns = {
            "key": F("pk"),
            "person_id": F("head_id" if self.households else "pk"),
            "household_id": F("pk" if self.households else "household_id"),
            "categories": F(f"{h}categories"),
            "household_number": F(f"{h}number"),
            "household_residency": F(f"{h}residency"),
        }
        for name in (
            "name",
            "id_number",
            "residency",
            "is_deceased",
            "died_on",
            "relation_to_head",
            "sex",
            "birth_date",
            "registration_kind",
            "disability_grade",
        ):
            columns[name] = F(f"{p}{name}")
        columns.update(
            county_id=F("county_id"),
            township_id=F("township_id"),
            village_id=F("village_id"),
            group_id=F("group_id"),
            village_name=F("village__name"),
            live_id=F("live__id"),
            live_status=F("live__status"),
        )
        # Aliases that no model field has (values() refuses an annotation named like a field).
        rows = queryset.values(**{f"v_{name}": value for name, value in columns.items()})
        return [{name[2:]: value for name, value in row.items()} for row in rows]

    # --- the judgement of given rows ---

    def decisions(self, rows: list[dict]) -> list[Candidate]:
        """The rows judged by ``eligibility.decide``, with the household facts read for all
        of them at once (two queries)."""
        households = {row["household_id"] for row in rows if row["household_id"]}
        kin = household_facts(households, ref=self.ref)
        roster = set(
            HardshipAssessment.objects.filter(
                household_id__in=households, year=self.year, status=IN_ROSTER
            )
            .order_by()
            .values_list("household_id", flat=True)
        )
        candidates = []
        for row in rows:
            household = kin.get(row["household_id"], KinFacts())
            facts = Facts(
                person_id=row["person_id"],
                household_id=row["household_id"],
                alive=row["is_deceased"] is False,
                died_on=row["died_on"],
                relation=row["relation_to_head"] or "",
                sex=row["sex"] or "",
                birth_date=row["birth_date"],
                residency=row["residency"] or "",
                registration_kind=row["registration_kind"] or "",
                disability_grade=row["disability_grade"],
                categories=tuple(row["categories"] or ()),
                household_number=row["household_number"] or "",
                household_residency=row["household_residency"] or "",
                household_alive=household.living > 0,
                hardship=row["household_id"] in roster,
                child_deceased=household.child_deceased,
                child_grade=household.child_grade,
                youngest_child_birth=household.youngest_child_birth,
                woman_birth=household.woman_birth,
                certificate=household.certificate,
                village_id=row["village_id"],
                group_id=row["group_id"],
                village_name=row["village_name"] or "",
            )
            decision = decide(
                self.rule,
                facts,
                year=self.year,
                today=self.today,
                household_programme=self.households,
                rate_categories=self.rate_categories,
            )
            candidates.append(
                Candidate(
                    facts=facts,
                    decision=decision,
                    name=row["name"] or "",
                    id_number=row["id_number"],
                    live_status=row["live_status"] or "",
                    live_id=row["live_id"],
                    extra={
                        "key": row["key"],
                        "place": tuple(
                            row[f"{level}_id"]
                            for level in ("county", "township", "village", "group")
                        ),
                    },
                )
            )
        return candidates

    def page(self, *, show: str, village: int | None, offset: int, limit: int) -> list[Candidate]:
        queryset = self.filtered(show=show, village=village)[offset : offset + limit]
        return self.decisions(self.rows(queryset))

    def all_decisions(self) -> list[Candidate]:
        """Every row of the pool (or of ``restrict``) judged, in the list's order."""
        return self.decisions(self.rows(self.filtered()))


@dataclass
class KinFacts:
    """What a rule reads of a household's other persons."""

    living: int = 0
    child_deceased: bool = False
    child_grade: int | None = None
    youngest_child_birth: datetime.date | None = None
    woman_birth: datetime.date | None = None
    certificate: bool = False


def household_facts(household_ids: set[int], *, ref: datetime.date) -> dict[int, KinFacts]:
    """The kin facts of these households, from one read of their persons (the same
    definitions as ``Evaluation.conditions``' subqueries)."""
    facts: dict[int, KinFacts] = defaultdict(KinFacts)
    if not household_ids:
        return facts
    members = (
        Person.objects.filter(household_id__in=household_ids)
        .order_by()
        .values_list(
            "household_id",
            "relation_to_head",
            "sex",
            "birth_date",
            "is_deceased",
            "disability_grade",
            "only_child_certificate_number",
        )
    )
    for household, relation, sex, birth, deceased, grade, certificate in members:
        kin = facts[household]
        kin.living += not deceased
        kin.certificate |= bool(certificate)
        if relation in CHILDREN:
            if deceased:
                kin.child_deceased = True
            else:
                if grade is not None and (kin.child_grade is None or grade < kin.child_grade):
                    kin.child_grade = grade
                if birth <= ref and (
                    kin.youngest_child_birth is None or birth > kin.youngest_child_birth
                ):
                    kin.youngest_child_birth = birth
        woman = relation in (Relation.HEAD, Relation.SPOUSE) and sex == Sex.FEMALE
        if woman and (kin.woman_birth is None or birth < kin.woman_birth):
            kin.woman_birth = birth
    return facts


def evaluate_one(
    *,
    program: Program,
    node: Association,
    year: int,
    today: datetime.date,
    person: Person | None = None,
    household: Household | None = None,
    rule: Rule | None = None,
) -> Candidate | None:
    """One person's (or household's) judgement, by the same path as the list's rows. None
    when the beneficiary is not under ``node`` in the actor's scope."""
    key = household.pk if program.beneficiary_kind == BeneficiaryKind.HOUSEHOLD else person.pk
    evaluation = Evaluation(
        program=program, node=node, year=year, today=today, rule=rule, restrict=[key]
    )
    judged = evaluation.all_decisions()
    return judged[0] if judged else None
