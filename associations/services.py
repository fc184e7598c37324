"""Writes and workflows of the associations app: the tree, redistricting, councils, accounts.

Every function is keyword-only, atomic, validates, checks the actor's permission against the
object, writes, and records the change."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from . import permissions
from .history import build_change, record_change, record_changes, snapshot
from .models import (
    ANCESTOR_FIELDS,
    ROLE_LEVEL,
    Association,
    ChangeRecord,
    Council,
    CouncilSeat,
    Kind,
    Level,
    Role,
    ScopedModel,
    User,
    child_level,
    parent_level,
)
from .scope import UnscopedReason, unscoped
from .validators import refuse_unknown_fields, validate_division_code

NODE_FIELDS = [
    "name",
    "kind",
    "division_code",
    "established_on",
    "address",
    "phone",
    "is_small_village",
]
CONSTRAINT_MESSAGES = {
    "association_code_unique_in_county": (
        "division_code",
        "区划代码 {code} 已被本县其他组织使用。",
        "division_code_taken",
    ),
    "association_county_code_unique": (
        "division_code",
        "区划代码 {code} 的县已在平台上开通。",
        "county_exists",
    ),
    "council_term_unique": ("term_number", "该协会已有这一届理事会。", "council_term_taken"),
    "council_one_president": ("position", "一届理事会只能有一位会长。", "council_president_taken"),
    "council_person_once": ("person_name", "此人已在本届理事会中任职。", "council_person_taken"),
}


def _translate_integrity_error(error: IntegrityError, **context) -> ValidationError:
    text = str(error)
    for name, (field, message, code) in CONSTRAINT_MESSAGES.items():
        if name in text:
            return ValidationError({field: ValidationError(message.format(**context), code=code)})
    return ValidationError("保存失败:数据与已有记录冲突。", code="conflict")


def _allocate_association_ids(count: int) -> list[int]:
    """Take ids from the table's sequence before inserting, so that a node's own ancestor key
    (a township's `township_id`, …) can point at itself in the same INSERT."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('associations_association', 'id')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def _clean(obj) -> None:
    """Field validation only: ancestor keys and parents come from objects the service already
    holds (a new node's own key points at a row not inserted yet), and uniqueness is the
    database's job, translated by _translate_integrity_error."""
    obj.full_clean(
        exclude=[*ANCESTOR_FIELDS, "parent"], validate_unique=False, validate_constraints=False
    )


def _set_own_key(node: Association) -> None:
    setattr(node, f"{node.level}_id", node.pk)


def _insert_node(node: Association, *, actor) -> Association:
    try:
        with transaction.atomic():
            node.save(force_insert=True)
    except IntegrityError as error:
        raise _translate_integrity_error(error, code=node.division_code) from error
    record_change(
        actor=actor,
        node=node,
        obj=node,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(node, [*NODE_FIELDS, "parent"]),
    )
    return node


@transaction.atomic
def county_create(
    *,
    name: str,
    division_code: str,
    admin_username: str,
    admin_password: str,
    admin_full_name: str = "",
    established_on=None,
    address: str = "",
    phone: str = "",
) -> tuple[Association, User]:
    """The platform operator opens a county (a tenant) with its first admin account."""
    code = validate_division_code(division_code, Level.COUNTY)
    with unscoped(reason=UnscopedReason.TENANT_CREATION):
        (node_id,) = _allocate_association_ids(1)
        county = Association(
            id=node_id,
            county_id=node_id,
            level=Level.COUNTY,
            kind=Kind.REGIONAL,
            name=name.strip(),
            division_code=code,
            established_on=established_on,
            address=address,
            phone=phone,
        )
        _clean(county)
        _insert_node(county, actor=None)
        admin = user_create(
            actor=None,
            username=admin_username,
            password=admin_password,
            node=county,
            role=Role.COUNTY_ADMIN,
            full_name=admin_full_name,
        )
    return county, admin


@transaction.atomic
def association_create(
    *,
    actor,
    parent: Association,
    name: str,
    division_code: str,
    kind: str = Kind.REGIONAL,
    established_on=None,
    address: str = "",
    phone: str = "",
    is_small_village: bool = False,
) -> Association:
    level = child_level(parent.level)
    if level is None:
        raise ValidationError("会员小组下不能再设下级组织。", code="level_too_deep")
    permissions.require(permissions.can_create_child(actor, parent))
    code = validate_division_code(division_code, level, prefix=parent.division_code)
    (node_id,) = _allocate_association_ids(1)
    node = Association(
        id=node_id,
        level=level,
        kind=kind,
        parent=parent,
        name=(name or "").strip(),
        division_code=code,
        established_on=established_on,
        address=address,
        phone=phone,
        is_small_village=is_small_village if level == Level.VILLAGE else False,
    )
    node.place_under(parent)
    _set_own_key(node)
    _clean(node)
    return _insert_node(node, actor=actor)


EDITABLE_NODE_FIELDS = {"name", "kind", "established_on", "address", "phone", "is_small_village"}


@transaction.atomic
def association_update(*, actor, association: Association, **changes) -> Association:
    permissions.require(permissions.can_edit_node(actor, association))
    refuse_unknown_fields(Association, changes, EDITABLE_NODE_FIELDS | {"division_code"})
    before = snapshot(association, NODE_FIELDS)
    if "division_code" in changes and changes["division_code"] != association.division_code:
        prefix = association.parent.division_code if association.parent_id else None
        changes["division_code"] = validate_division_code(
            changes["division_code"], association.level, prefix=prefix
        )
    if association.level != Level.VILLAGE:
        changes.pop("is_small_village", None)
    for field, value in changes.items():
        setattr(association, field, value.strip() if isinstance(value, str) else value)
    _clean(association)
    after = snapshot(association, NODE_FIELDS)
    if after == before:
        return association
    try:
        with transaction.atomic():
            association.save()
    except IntegrityError as error:
        raise _translate_integrity_error(error, code=association.division_code) from error
    recoded = _recode_groups(association, old_code=before["division_code"])
    changes = [
        build_change(
            actor=actor,
            node=association,
            obj=association,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=after,
        )
    ]
    for group in Association.objects.filter(pk__in=recoded).order_by("division_code"):
        changes.append(
            build_change(
                actor=actor,
                node=group,
                obj=group,
                action=ChangeRecord.Action.UPDATE,
                before={"division_code": recoded[group.pk]},
                after={"division_code": group.division_code},
            )
        )
    record_changes(changes)
    return association


def scoped_models() -> list[type[ScopedModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, ScopedModel) and not model._meta.abstract
    ]


def _check_move(association: Association, new_parent: Association) -> None:
    if association.level not in (Level.VILLAGE, Level.GROUP):
        raise ValidationError(
            "只有村(社区)和会员小组可以调整隶属关系。", code="move_level_not_movable"
        )
    if new_parent.county_id != association.county_id:
        raise ValidationError("不能调整到其他县。", code="move_other_county")
    if new_parent.level != parent_level(association.level):
        expected = dict(Level.choices)[parent_level(association.level)]
        raise ValidationError(
            {"new_parent": ValidationError(f"新的上级必须是{expected}。", code="move_wrong_level")}
        )
    if new_parent.pk == association.parent_id:
        raise ValidationError(
            {"new_parent": ValidationError("新的上级与原上级相同。", code="move_same_parent")}
        )


@transaction.atomic
def association_move(
    *, actor, association: Association, new_parent: Association, new_division_code: str = ""
) -> Association:
    """Redistricting (区划调整): move a village to another township, or a member group to
    another village, updating the ancestor keys of every scoped row beneath it.

    A village keeps its code unless a new one is given (its code is the statistics bureau's);
    when it changes, its groups take the new village code with their own 3 digits, so the old
    codes are free again. A group moved without a new code takes the new village's code with
    its own 3 digits. A code already taken refuses the whole move."""
    permissions.require(permissions.can_move_node(actor), "只有县级管理员可以进行区划调整。")
    _check_move(association, new_parent)
    before = snapshot(association, ["parent", "division_code"])
    moved_key = f"{association.level}_id"
    new_keys = {"township_id": new_parent.township_id}
    if association.level == Level.GROUP:
        new_keys["village_id"] = new_parent.village_id
    rows_moved = {}
    try:
        with transaction.atomic():
            for model in scoped_models():
                updated = model.objects.filter(**{moved_key: association.pk}).update(**new_keys)
                if updated:
                    rows_moved[model._meta.label] = updated
    except IntegrityError as error:
        # e.g. a moved group's member numbers already used in the target village.
        raise ValidationError(
            f"调整后与{new_parent.name}的现有数据冲突(如会员证号、户编号重复),"
            "请先处理重复的编号再调整。",
            code="move_conflict",
        ) from error
    association.refresh_from_db()
    association.parent = new_parent
    if new_division_code:
        association.division_code = validate_division_code(
            new_division_code, association.level, prefix=new_parent.division_code
        )
    elif association.level == Level.GROUP:
        association.division_code = _group_code(new_parent, association)
        _refuse_taken_codes([(association, association.division_code)], field="new_division_code")
    try:
        with transaction.atomic():
            association.save(update_fields=["parent", "division_code", "updated_at"])
    except IntegrityError as error:
        raise _translate_integrity_error(error, code=association.division_code) from error
    recoded = _recode_groups(association, old_code=before["division_code"])
    after = {**snapshot(association, ["parent", "division_code"]), "rows_moved": rows_moved}
    changes = [
        build_change(
            actor=actor,
            node=association,
            obj=association,
            action=ChangeRecord.Action.MOVE,
            before=before,
            after=after,
        )
    ]
    descendants = Association.objects.filter(**{moved_key: association.pk}).exclude(
        pk=association.pk
    )
    for child in descendants:
        child_before = {"township": before["parent"]}
        child_after = {"township": child.township_id, "moved_with": association.pk}
        if child.pk in recoded:
            child_before["division_code"] = recoded[child.pk]
            child_after["division_code"] = child.division_code
        changes.append(
            build_change(
                actor=actor,
                node=child,
                obj=child,
                action=ChangeRecord.Action.MOVE,
                before=child_before,
                after=child_after,
            )
        )
    record_changes(changes)
    return association


def _group_code(village: Association, group: Association) -> str:
    """A group's code: its village's 12 digits and the group's own last 3."""
    return village.division_code + group.division_code[-3:]


def _recode_groups(village: Association, *, old_code: str) -> dict[int, str]:
    """After a village's code changed from `old_code`, give each of its groups the new village
    code with its own 3 digits, so the old codes are free for a village that takes the old
    code. Returns {group id: its old code} of the groups re-coded; a code already taken raises
    a ValidationError naming it (the caller's transaction then undoes everything)."""
    if village.level != Level.VILLAGE or village.division_code == old_code:
        return {}
    groups = [
        group
        for group in Association.objects.filter(parent=village, level=Level.GROUP)
        if group.division_code != _group_code(village, group)
    ]
    planned = [(group, _group_code(village, group)) for group in groups]
    _refuse_taken_codes(planned)
    old_codes = {}
    for group, code in planned:
        old_codes[group.pk], group.division_code = group.division_code, code
        try:
            with transaction.atomic():
                group.save(update_fields=["division_code", "updated_at"])
        except IntegrityError as error:  # taken by a node the actor's scope does not show
            raise _code_taken(group, code, holder=None) from error
    return old_codes


def _refuse_taken_codes(planned: list[tuple[Association, str]], *, field: str = "") -> None:
    """Refuse (naming the code and who holds it) when a node other than those being re-coded
    holds one of the planned codes, or two of them would get the same code."""
    claimed: dict[str, Association] = {}
    for group, code in planned:
        if code in claimed:
            raise _code_taken(group, code, holder=claimed[code].name, field=field)
        claimed[code] = group
    holder = (
        Association.objects.filter(division_code__in=claimed)
        .exclude(pk__in=[group.pk for group, _code in planned])
        .order_by("division_code")
        .first()
    )
    if holder is not None:
        code = holder.division_code
        raise _code_taken(claimed[code], code, holder=holder.name, field=field)


def _code_taken(
    group: Association, code: str, *, holder: str | None, field: str = ""
) -> ValidationError:
    held_by = f"“{holder}”" if holder else "本县其他组织"
    error = ValidationError(
        f"调整后会员小组“{group.name}”的区划代码应为 {code},但该代码已被{held_by}使用,"
        "未做任何调整。请先修改占用该代码的组织的区划代码,或填写新的区划代码。",
        code="group_code_taken",
    )
    return ValidationError({field: error}) if field else error


COUNCIL_FIELDS = ["association", "term_number", "starts_on", "ends_on"]
SEAT_FIELDS = ["council", "position", "person_name", "background", "note"]


def _save_scoped(obj, *, actor, node: Association, fields: list[str], before=None, **context):
    """Validate, save and record a scoped row that sits at `node`."""
    action = ChangeRecord.Action.CREATE if obj.pk is None else ChangeRecord.Action.UPDATE
    obj.place_under(node)
    _clean(obj)
    after = snapshot(obj, fields)
    if action == ChangeRecord.Action.UPDATE and after == before:
        return obj
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise _translate_integrity_error(error, **context) from error
    record_change(actor=actor, node=node, obj=obj, action=action, before=before, after=after)
    return obj


@transaction.atomic
def council_create(*, actor, association: Association, term_number, starts_on, ends_on) -> Council:
    permissions.require(permissions.can_manage_council(actor, association))
    if association.level == Level.GROUP:
        raise ValidationError("会员小组不设理事会。", code="council_not_for_group")
    council = Council(
        association=association, term_number=term_number, starts_on=starts_on, ends_on=ends_on
    )
    return _save_scoped(council, actor=actor, node=association, fields=COUNCIL_FIELDS)


@transaction.atomic
def council_update(*, actor, council: Council, **changes) -> Council:
    permissions.require(permissions.can_manage_council(actor, council.association))
    before = snapshot(council, COUNCIL_FIELDS)
    for field in ("term_number", "starts_on", "ends_on"):
        if field in changes:
            setattr(council, field, changes[field])
    return _save_scoped(
        council, actor=actor, node=council.association, fields=COUNCIL_FIELDS, before=before
    )


@transaction.atomic
def council_seat_add(
    *, actor, council: Council, position: str, person_name: str, background: str, note: str = ""
) -> CouncilSeat:
    permissions.require(permissions.can_manage_council(actor, council.association))
    seat = CouncilSeat(
        council=council,
        position=position,
        person_name=(person_name or "").strip(),
        background=background,
        note=note,
    )
    return _save_scoped(seat, actor=actor, node=council.association, fields=SEAT_FIELDS)


@transaction.atomic
def council_seat_update(*, actor, seat: CouncilSeat, **changes) -> CouncilSeat:
    association = seat.council.association
    permissions.require(permissions.can_manage_council(actor, association))
    before = snapshot(seat, SEAT_FIELDS)
    for field in ("position", "person_name", "background", "note"):
        if field in changes:
            value = changes[field]
            setattr(seat, field, value.strip() if isinstance(value, str) else value)
    return _save_scoped(seat, actor=actor, node=association, fields=SEAT_FIELDS, before=before)


@transaction.atomic
def council_seat_remove(*, actor, seat: CouncilSeat) -> None:
    association = seat.council.association
    permissions.require(permissions.can_manage_council(actor, association))
    record_change(
        actor=actor,
        node=association,
        obj=seat,
        action=ChangeRecord.Action.DELETE,
        before=snapshot(seat, SEAT_FIELDS),
        after=None,
    )
    seat.delete()


USER_FIELDS = ["username", "full_name", "node", "role", "phone", "is_active"]


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    node: Association,
    role: str,
    full_name: str = "",
    phone: str = "",
) -> User:
    """A staff account at a node. County admins create accounts in their county; the first
    admin of a county is created with the county (actor None)."""
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor), "只有县级管理员可以管理账号。")
    if ROLE_LEVEL[Role(role)] != node.level:
        level_name = dict(Level.choices)[ROLE_LEVEL[Role(role)]]
        raise ValidationError(
            {"role": ValidationError(f"该角色只能设在{level_name}一级。", code="role_wrong_level")}
        )
    username = (username or "").strip()
    user = User(
        username=username,
        full_name=full_name.strip(),
        node=node,
        county_id=node.county_id,
        role=role,
        phone=phone,
    )
    # Every problem is reported together and a name that cannot be had always reads the same,
    # so the form tells a county admin nothing about other counties' accounts (issue 12).
    errors = {}
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.error_list
    if not _username_available(username):
        errors["username"] = [_username_unavailable()]
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # the same name taken meanwhile (anywhere)
        raise ValidationError({"username": [_username_unavailable()]}) from error
    record_change(
        actor=actor,
        node=node,
        obj=user,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(user, USER_FIELDS),
    )
    return user


# --- Username checks within the county only (issue 12) ---------------------------------------
USERNAME_UNAVAILABLE = "该用户名不可用,请换一个。"
# Names nobody gets (they read like the system's own): refused with the same message, so an
# "unavailable" name is not proof that an account of that name exists.
RESERVED_USERNAMES = {"admin", "administrator", "root", "operator", "system", "superuser", "api"}


def _username_unavailable() -> ValidationError:
    return ValidationError(USERNAME_UNAVAILABLE, code="username_unavailable")


def _username_available(username: str) -> bool:
    """Names are unique on the whole platform, in any spelling (sign-in knows no county). A
    name of the county's own accounts and a name of an account elsewhere are refused with the
    same message, so the form never says which; what remains is that "unavailable" for a name
    not on the county's own staff list means it is in use or reserved somewhere."""
    if username.lower() in RESERVED_USERNAMES:
        return False
    return not User.objects.filter(username__iexact=username).exists()
