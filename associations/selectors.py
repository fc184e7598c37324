"""Scoped reads of the associations app. Every queryset here goes through the scoped
managers, so an object of another county or a sibling subtree is simply not found (404)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from .models import (
    Association,
    ChangeRecord,
    Council,
    CouncilPosition,
    CouncilSeat,
    DirectorBackground,
    Level,
    User,
)


def association_list(*, actor, filters: dict | None = None) -> QuerySet[Association]:
    from .filters import AssociationFilter

    queryset = Association.objects.select_related("parent")
    if filters is not None:
        queryset = AssociationFilter(filters, queryset=queryset, request=None).qs
    return queryset


def association_get(*, actor, pk) -> Association:
    return get_object_or_404(Association.objects.select_related("parent__parent__parent"), pk=pk)


def association_children(*, node: Association) -> QuerySet[Association]:
    """Direct children with their own counts of sub-nodes, in one query."""
    grandchild_level = node.child_level and Association(level=node.child_level).child_level
    queryset = Association.objects.filter(parent=node)
    if grandchild_level:
        key = f"{node.child_level}_id"
        # Counting by ancestor key (one indexed equality) rather than walking the tree.
        sub_counts = {
            row[key]: row["n"]
            for row in Association.objects.filter(level=grandchild_level, parent__parent=node)
            .values(key)
            .annotate(n=Count("id"))
        }
        children = list(queryset)
        for child in children:
            child.sub_count = sub_counts.get(child.pk, 0)
        return children
    return list(queryset)


def next_child_code(*, parent: Association) -> str:
    """A suggestion for a new child's division code: one past the highest child code."""
    codes = Association.objects.filter(
        parent=parent, division_code__startswith=parent.division_code
    ).values_list("division_code", flat=True)
    suffixes = [int(c[len(parent.division_code) :]) for c in codes]
    start = 1 if parent.level == Level.VILLAGE else 100 if parent.level == Level.COUNTY else 200
    return f"{parent.division_code}{max(suffixes, default=start - 1) + 1:03d}"


def subtree_counts(*, node: Association) -> dict[str, int]:
    """How many nodes of each level lie under the node (the node itself excluded)."""
    key = f"{node.level}_id"
    rows = (
        Association.objects.filter(**{key: node.pk})
        .exclude(pk=node.pk)
        .values("level")
        .annotate(n=Count("id"))
    )
    counts = {row["level"]: row["n"] for row in rows}
    return {level: counts.get(level, 0) for level in Level.values}


def whole_subtree(*, node: Association) -> list[Association]:
    """Every node under `node` (itself included), ordered for a tree view, in one query."""
    key = f"{node.level}_id"
    return list(Association.objects.filter(**{key: node.pk}).order_by("division_code"))


POSITION_RANK = Case(
    *[When(position=p, then=Value(i)) for i, p in enumerate(CouncilPosition.values)],
    output_field=IntegerField(),
)


def current_council(*, association: Association) -> Council | None:
    """The latest term, its seats in order of office (会长, 副会长, 秘书长, 理事)."""
    seats = CouncilSeat.objects.annotate(rank=POSITION_RANK).order_by("rank", "id")
    return (
        Council.objects.filter(association=association)
        .prefetch_related(Prefetch("seats", queryset=seats))
        .order_by("-term_number")
        .first()
    )


def council_list(*, association: Association) -> QuerySet[Council]:
    return Council.objects.filter(association=association).annotate(seat_count=Count("seats"))


def council_get(*, pk) -> Council:
    return get_object_or_404(Council.objects.select_related("association"), pk=pk)


def seat_get(*, pk) -> CouncilSeat:
    return get_object_or_404(CouncilSeat.objects.select_related("council__association"), pk=pk)


@dataclass
class CouncilModelCheck:
    """Whether a village council meets the 5-3-3 model (3-2-1 for a small village)."""

    model_name: str
    required: dict[str, int]
    actual: dict[str, int]

    @property
    def missing(self) -> dict[str, int]:
        return {
            background: need - self.actual.get(background, 0)
            for background, need in self.required.items()
            if self.actual.get(background, 0) < need
        }

    @property
    def is_met(self) -> bool:
        return not self.missing

    def missing_text(self) -> list[str]:
        labels = dict(DirectorBackground.choices)
        return [f"还缺 {n} 名{labels[b]}" for b, n in self.missing.items()]


COUNCIL_MODELS = {
    False: ("5-3-3", {"elder": 5, "notable": 3, "cadre": 3}),
    True: ("3-2-1", {"elder": 3, "notable": 2, "cadre": 1}),
}


def council_model_check(*, council: Council) -> CouncilModelCheck | None:
    association = council.association
    if association.level != Level.VILLAGE:
        return None
    name, required = COUNCIL_MODELS[association.is_small_village]
    actual = {}
    for seat in council.seats.all():
        actual[seat.background] = actual.get(seat.background, 0) + 1
    return CouncilModelCheck(model_name=name, required=required, actual=actual)


def node_history(*, node: Association, limit: int = 50) -> QuerySet[ChangeRecord]:
    return ChangeRecord.objects.filter(node=node).select_related("actor")[:limit]


def staff_list(*, actor) -> QuerySet[User]:
    """Accounts of the actor's subtree. User is not a scoped model (sign-in needs it before
    any scope), so the subtree filter is explicit here and nowhere else."""
    level = actor.node_level
    nodes = Association.objects.filter(**{f"{level}_id": actor.node_id})
    return User.objects.filter(node__in=nodes).select_related("node").order_by("node", "username")
