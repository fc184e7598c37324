"""The county's catalogues for activities: campaign themes, the themed-day calendar and the
materials handed out. Each county edits its own; the defaults below are what every county
starts with.

Seeding: the defaults are written the first time a county's catalogue is read (`themes`,
`themed_days`, `materials`, and the services that check a choice), and by the command
`seed_activity_catalogues --county` for counties that want them before anyone opens a form.
A data migration cannot do it (it runs once, before most counties exist), and a hook in
county creation would make associations call into activities, against the direction the
apps depend on. First use covers every county, old or new, with no extra query once seeded:
the read that finds rows returns them. A catalogue is seeded only while the county has no
row of it at all; items are retired (`is_active`), never deleted, so a county's own edits
are never undone by a re-seed.

The rows sit at the county node (county key only), which a village's or group's scope
filter does not reach: the reads here enter the county's scope, as a lookup of county-wide
configuration that holds no personal data."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from associations import permissions
from associations.history import build_change, record_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.scope import Scope, activate

from .models import Material, Theme, ThemedDay

DEFAULT_THEMES = (
    "婚育新风进万家",
    "关爱女孩",
    "青春健康",
    "预防艾滋病",
    "幸福家庭",
    "红五月",
    "生育关怀",
)
DEFAULT_THEMED_DAYS = (
    (3, 8, "妇女节"),
    (5, 29, "会员活动日"),
    (7, 11, "世界人口日"),
    (9, 25, "公开信发表纪念日"),
    (10, 28, "男性健康日"),
    (12, 1, "世界艾滋病日"),
)
DEFAULT_MATERIALS = (
    ("宣传资料", "份"),
    ("避孕药具", "盒"),
    ("避孕药具", "只"),
    ("横幅", "幅"),
    ("展板", "块"),
    ("宣传品", "个"),
)
THEME_FIELDS = ["name", "is_active"]
THEMED_DAY_FIELDS = ["month", "day", "name", "is_active"]
MATERIAL_FIELDS = ["name", "unit", "is_active"]


def county_scope(county_id: int) -> Scope:
    return Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)


def _defaults(model) -> list:
    if model is Theme:
        return [Theme(name=name) for name in DEFAULT_THEMES]
    if model is ThemedDay:
        return [ThemedDay(month=m, day=d, name=name) for m, d, name in DEFAULT_THEMED_DAYS]
    return [Material(name=name, unit=unit) for name, unit in DEFAULT_MATERIALS]


@transaction.atomic
def _seed(model, county_id: int) -> None:
    """Write the defaults of one catalogue for a county that has none, with their change
    records. The county row is locked first, so two first uses at once seed once."""
    county = Association.objects.select_for_update().get(pk=county_id)
    if model.objects.filter(county_id=county_id).exists():
        return
    rows = _defaults(model)
    for row in rows:
        row.place_under(county)
    model.objects.bulk_create(rows)
    record_changes(
        [
            build_change(
                actor=None,
                node=county,
                obj=row,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after=snapshot(row),
            )
            for row in rows
        ]
    )


def _catalogue(model, county_id: int, *, active_only: bool) -> list:
    with activate(county_scope(county_id)):
        rows = list(model.objects.filter(county_id=county_id))
        if not rows:
            _seed(model, county_id)
            rows = list(model.objects.filter(county_id=county_id))
    return [row for row in rows if row.is_active or not active_only]


def themes(*, county_id: int, active_only: bool = True) -> list[Theme]:
    return _catalogue(Theme, county_id, active_only=active_only)


def themed_days(*, county_id: int, active_only: bool = True) -> list[ThemedDay]:
    return _catalogue(ThemedDay, county_id, active_only=active_only)


def materials(*, county_id: int, active_only: bool = True) -> list[Material]:
    return _catalogue(Material, county_id, active_only=active_only)


def seed_county(county: Association) -> None:
    """All three catalogues of a county (the command's work); idempotent."""
    for model in (Theme, ThemedDay, Material):
        _catalogue(model, county.county_id, active_only=False)


# --- the county edits its catalogues ---------------------------------------------------------


def _save(obj, *, actor, county: Association, fields, before, conflict: str):
    permissions.require(permissions.can_edit_node(actor, county))
    obj.full_clean(exclude=["county", "township", "village", "group"], validate_unique=False)
    after = snapshot(obj, fields)
    if before == after:
        return obj
    action = ChangeRecord.Action.CREATE if obj.pk is None else ChangeRecord.Action.UPDATE
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise ValidationError(conflict, code="catalogue_item_exists") from error
    record_change(actor=actor, node=county, obj=obj, action=action, before=before, after=after)
    return obj


def _county_of(actor) -> Association:
    """The actor's county node (read under its scope: a township's scope does not reach it);
    the permission check that follows refuses everyone but the county's editors."""
    with activate(county_scope(actor.county_id)):
        return Association.objects.get(pk=actor.county_id)


@transaction.atomic
def theme_add(*, actor, name: str) -> Theme:
    county = _county_of(actor)
    theme = Theme(name=(name or "").strip())
    theme.place_under(county)
    return _save(
        theme,
        actor=actor,
        county=county,
        fields=THEME_FIELDS,
        before=None,
        conflict=f"已有主题“{theme.name}”。",
    )


@transaction.atomic
def theme_update(*, actor, theme: Theme, name: str | None = None, is_active=None) -> Theme:
    before = snapshot(theme, THEME_FIELDS)
    if name is not None:
        theme.name = name.strip()
    if is_active is not None:
        theme.is_active = is_active
    return _save(
        theme,
        actor=actor,
        county=theme.county,
        fields=THEME_FIELDS,
        before=before,
        conflict=f"已有主题“{theme.name}”。",
    )


def _check_calendar_day(month: int, day: int) -> None:
    try:
        datetime.date(2024, month, day)  # a leap year: 2.29 is a day that recurs
    except (TypeError, ValueError) as error:
        raise ValidationError(f"{month}月{day}日不是有效的日期。", code="invalid_day") from error


@transaction.atomic
def themed_day_add(*, actor, month: int, day: int, name: str) -> ThemedDay:
    county = _county_of(actor)
    _check_calendar_day(month, day)
    themed_day = ThemedDay(month=month, day=day, name=(name or "").strip())
    themed_day.place_under(county)
    return _save(
        themed_day,
        actor=actor,
        county=county,
        fields=THEMED_DAY_FIELDS,
        before=None,
        conflict=f"{month}.{day} 已是主题日。",
    )


@transaction.atomic
def themed_day_update(
    *, actor, themed_day: ThemedDay, name: str | None = None, is_active=None
) -> ThemedDay:
    before = snapshot(themed_day, THEMED_DAY_FIELDS)
    if name is not None:
        themed_day.name = name.strip()
    if is_active is not None:
        themed_day.is_active = is_active
    return _save(
        themed_day,
        actor=actor,
        county=themed_day.county,
        fields=THEMED_DAY_FIELDS,
        before=before,
        conflict="该主题日已存在。",
    )


@transaction.atomic
def material_add(*, actor, name: str, unit: str) -> Material:
    county = _county_of(actor)
    material = Material(name=(name or "").strip(), unit=(unit or "").strip())
    material.place_under(county)
    return _save(
        material,
        actor=actor,
        county=county,
        fields=MATERIAL_FIELDS,
        before=None,
        conflict=f"已有物资“{material}”。",
    )


@transaction.atomic
def material_update(*, actor, material: Material, is_active: bool) -> Material:
    """Retire or restore a material; its name and unit stay, as past handouts count in them."""
    before = snapshot(material, MATERIAL_FIELDS)
    material.is_active = is_active
    return _save(
        material,
        actor=actor,
        county=material.county,
        fields=MATERIAL_FIELDS,
        before=before,
        conflict="该物资已存在。",
    )
