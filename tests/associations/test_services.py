import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from associations import services
from associations.management.base import find_county
from associations.models import (
    Association,
    ChangeRecord,
    Council,
    CouncilPosition,
    CouncilSeat,
    DirectorBackground,
    Kind,
    Role,
)
from associations.scope import Scope, activate
from households.models import Household, Person

pytestmark = pytest.mark.django_db


def codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def create(actor, parent, code, name="新组织", **extra):
    return services.association_create(
        actor=actor, parent=parent, name=name, division_code=code, **extra
    )


class TestCreate:
    def test_child_gets_the_next_level_and_ancestor_keys(self, world):
        a = world.a
        admin = a.users["county_admin"]
        with a.scope():
            group = create(admin, a.villages[0], a.villages[0].division_code + "009")
        assert group.level == "group"
        assert (group.county_id, group.township_id, group.village_id, group.group_id) == (
            a.county.pk,
            a.townships[0].pk,
            a.villages[0].pk,
            group.pk,
        )

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("13053410020", "division_code_length"),
            ("1305341002001", "division_code_length"),
            ("13053410020a", "division_code_not_digits"),
            ("１３０５３４１００２０a", "division_code_not_digits"),
            ("130534101209", "division_code_prefix"),
            ("130534100000", "division_code_zero"),
            ("130534100200", "division_code_taken"),
        ],
    )
    def test_bad_codes_are_refused_with_a_code(self, world, code, expected):
        a = world.a
        with a.scope(), pytest.raises(ValidationError) as caught:
            create(a.users["county_admin"], a.townships[0], code)
        assert expected in codes(caught.value)
        with a.scope():
            assert not Association.objects.filter(name="新组织").exists()

    def test_duplicate_code_of_an_invisible_node_is_still_refused(self, world):
        a = world.a
        moved = a.villages[0]
        with a.scope():  # a moved village keeps its old code (township 1's prefix)
            services.association_move(
                actor=a.users["county_admin"], association=moved, new_parent=a.townships[1]
            )
        with activate(Scope.for_node(a.townships[0])), pytest.raises(ValidationError) as caught:
            assert not Association.objects.filter(pk=moved.pk).exists()
            create(a.users["township_staff"], a.townships[0], moved.division_code)
        assert "division_code_taken" in codes(caught.value)

    def test_full_width_digits_are_normalised(self, world):
        a = world.a
        with a.scope():
            node = create(a.users["county_admin"], a.townships[0], "１３０５３４１００２９９")
        assert node.division_code == "130534100299"

    def test_same_code_in_another_county_is_fine(self, world):
        b = world.b
        with b.scope():
            node = create(
                b.users["county_admin"], b.townships[0], b.townships[0].division_code + "299"
            )
        assert node.pk

    def test_groups_have_no_children(self, world):
        a = world.a
        with a.scope(), pytest.raises(ValidationError) as caught:
            create(a.users["county_admin"], a.groups[0], a.groups[0].division_code + "001")
        assert "level_too_deep" in codes(caught.value)

    @pytest.mark.parametrize(
        ("role", "parent_index", "allowed"),
        [
            ("county_admin", ("townships", 1), True),
            ("township_staff", ("townships", 0), True),
            ("village_secretary", ("villages", 0), True),
            ("village_secretary", ("townships", 0), False),
            ("group_leader", ("villages", 0), False),
            ("county_viewer", ("townships", 0), False),
        ],
    )
    def test_who_may_create_children(self, world, role, parent_index, allowed):
        a = world.a
        attr, index = parent_index
        parent = getattr(a, attr)[index]
        code = parent.division_code + ("299" if attr == "townships" else "009")
        with a.scope():
            if allowed:
                assert create(a.users[role], parent, code).pk
            else:
                with pytest.raises(PermissionDenied):
                    create(a.users[role], parent, code)

    def test_kinds_and_small_village_flag(self, world):
        a = world.a
        with a.scope():
            node = create(
                a.users["county_admin"],
                a.townships[0],
                a.townships[0].division_code + "299",
                kind=Kind.ENTERPRISE,
                is_small_village=True,
            )
        assert node.kind == Kind.ENTERPRISE and node.is_small_village

    def test_creation_is_recorded(self, world):
        a = world.a
        with a.scope():
            node = create(a.users["township_staff"], a.townships[0], "130534100299", name="记录村")
            record = ChangeRecord.objects.get(
                object_type="associations.Association", object_id=node.pk
            )
        assert record.action == "create"
        assert record.actor == a.users["township_staff"]
        assert record.after["name"] == "记录村"
        assert record.township_id == a.townships[0].pk


class TestCounty:
    def test_county_create_opens_a_tenant_with_an_admin(self, db):
        county, admin = services.county_create(
            name="故城县",
            division_code="131126",
            admin_username="gucheng",
            admin_password="Strong@pass2026",
        )
        assert county.county_id == county.pk and county.level == "county"
        assert admin.role == Role.COUNTY_ADMIN and admin.node == county

    @pytest.mark.parametrize(
        ("code", "expected"),
        [("999999", "division_code_unknown_county"), ("13053", "division_code_length")],
    )
    def test_bad_county_codes(self, db, code, expected):
        with pytest.raises(ValidationError) as caught:
            services.county_create(
                name="x", division_code=code, admin_username="x1", admin_password="Strong@pass2026"
            )
        assert expected in codes(caught.value)

    def test_county_opened_twice_is_refused(self, world):
        with pytest.raises(ValidationError) as caught:
            services.county_create(
                name="清河县",
                division_code="130534",
                admin_username="again",
                admin_password="Strong@pass2026",
            )
        assert "county_exists" in codes(caught.value)

    def test_weak_admin_password_is_refused_and_nothing_is_created(self, db):
        with pytest.raises(ValidationError) as caught:
            services.county_create(
                name="故城县",
                division_code="131126",
                admin_username="gucheng",
                admin_password="12345678",
            )
        assert "password" in caught.value.error_dict
        assert find_county("131126") is None


class TestUpdate:
    def test_update_records_before_and_after(self, world):
        a = world.a
        village = a.villages[0]
        with activate(Scope.for_node(village)):
            services.association_update(
                actor=a.users["village_secretary"], association=village, phone="0319-8123456"
            )
            record = ChangeRecord.objects.filter(object_id=village.pk, action="update").get()
        assert record.before["phone"] == "" and record.after["phone"] == "0319-8123456"
        assert ("联系电话", "", "0319-8123456") in record.changed_fields()

    def test_unchanged_update_records_nothing(self, world):
        a = world.a
        with a.scope():
            services.association_update(
                actor=a.users["county_admin"], association=a.villages[0], name=a.villages[0].name
            )
            assert not ChangeRecord.objects.filter(
                action="update", object_type="associations.Association"
            ).exists()

    def test_group_leader_cannot_edit(self, world):
        a = world.a
        with activate(Scope.for_node(a.groups[0])), pytest.raises(PermissionDenied):
            services.association_update(
                actor=a.users["group_leader"], association=a.groups[0], name="改"
            )

    def test_level_and_parent_are_not_editable(self, world):
        a = world.a
        with a.scope(), pytest.raises(ValidationError):
            services.association_update(
                actor=a.users["county_admin"], association=a.villages[0], level="group"
            )


class TestMove:
    def test_moving_a_village_updates_every_ancestor_key(self, world):
        a = world.a
        admin = a.users["county_admin"]
        village, target = a.villages[0], a.townships[1]
        with a.scope():
            services.association_move(actor=admin, association=village, new_parent=target)
            assert set(
                Association.objects.filter(village=village).values_list("township_id", flat=True)
            ) == {target.pk}
            assert Council.objects.get(association=village).township_id == target.pk
            assert CouncilSeat.objects.get(council__association=village).township_id == target.pk
            moved = ChangeRecord.objects.filter(action="move").order_by("id")
            assert moved.count() == 3  # the village and its two groups
            first = moved.first()
            assert first.object_id == village.pk
            assert first.before["parent"] == a.townships[0].pk
            assert first.after["parent"] == target.pk
            assert first.after["rows_moved"]["associations.Association"] == 3
        # The old township no longer sees it, the new one does.
        with activate(Scope.for_node(a.townships[0])):
            assert not Association.objects.filter(pk=village.pk).exists()
        with activate(Scope.for_node(target)):
            assert Association.objects.filter(village=village).count() == 3

    def test_every_row_under_a_moved_village_takes_the_new_township(self, world):
        a = world.a
        village, target = a.villages[1], a.townships[1]
        with a.scope():
            rows_under = {
                model._meta.label: model.objects.filter(village=village).count()
                for model in services.scoped_models()
            }
            services.association_move(
                actor=a.users["county_admin"], association=village, new_parent=target
            )
            for model in services.scoped_models():
                keys = set(model.objects.filter(village=village).values_list("county", "township"))
                assert keys <= {(a.county.pk, target.pk)}, model._meta.label
                assert model.objects.filter(village=village).count() == (
                    rows_under[model._meta.label]
                    # the move's own change records: the village and its two groups
                    + (3 if model is ChangeRecord else 0)
                )
        for label in ("households.Person", "households.Household", "members.Member"):
            assert rows_under[label] > 0  # the test world has rows of each under the village
        with activate(Scope.for_node(target)):
            person = a.persons[2]  # the head of village 1's household
            household = Household.objects.get(pk=person.household_id)
            assert (household.township_id, household.village_id) == (target.pk, village.pk)

    def test_a_recoded_village_recodes_its_groups_and_frees_the_old_codes(self, world):
        a = world.a
        admin = a.users["county_admin"]
        village, target = a.villages[0], a.townships[1]
        old_code = village.division_code  # 130534100200, groups …200001 and …200002
        with a.scope():
            services.association_move(
                actor=admin,
                association=village,
                new_parent=target,
                new_division_code="130534101299",
            )
            groups = Association.objects.filter(parent=village).order_by("division_code")
            assert list(groups.values_list("division_code", flat=True)) == [
                "130534101299001",
                "130534101299002",
            ]
            records = ChangeRecord.objects.filter(action="move", object_id=a.groups[0].pk)
            assert records.get().before["division_code"] == old_code + "001"
            assert records.get().after["division_code"] == "130534101299001"
            # The old codes are free: a new village takes the old code and makes its groups.
            newcomer = create(admin, a.townships[0], old_code, name="新设村")
            for suffix in ("001", "002"):
                create(admin, newcomer, old_code + suffix, name=f"新设村{suffix}组")
            assert Association.objects.filter(parent=newcomer).count() == 2

    def test_a_taken_group_code_refuses_the_whole_move_and_names_it(self, world):
        a = world.a
        village, target = a.villages[0], a.townships[1]
        with a.scope():
            # A group left by an earlier move with a stale code that the re-code needs.
            Association.objects.filter(pk=a.groups[2].pk).update(division_code="130534101299001")
            before = sorted(
                Association.objects.values_list(
                    "pk", "parent_id", "township_id", "village_id", "division_code"
                )
            )
            person_keys = sorted(Person.objects.values_list("pk", "township_id", "village_id"))
            with pytest.raises(ValidationError) as caught:
                services.association_move(
                    actor=a.users["county_admin"],
                    association=village,
                    new_parent=target,
                    new_division_code="130534101299",
                )
            assert codes(caught.value) == {"group_code_taken"}
            message = " ".join(caught.value.messages)
            assert "130534101299001" in message and a.groups[2].name in message
            assert a.groups[0].name in message
            after = sorted(
                Association.objects.values_list(
                    "pk", "parent_id", "township_id", "village_id", "division_code"
                )
            )
            assert after == before
            assert sorted(Person.objects.values_list("pk", "township_id", "village_id")) == (
                person_keys
            )
            assert not ChangeRecord.objects.filter(action="move").exists()

    def test_a_group_moved_without_a_code_takes_the_new_villages_prefix(self, world):
        a = world.a
        admin = a.users["county_admin"]
        source, target = a.villages[0], a.villages[3]
        with a.scope():
            group = create(admin, source, source.division_code + "007", name="第七组")
            services.association_move(actor=admin, association=group, new_parent=target)
            group.refresh_from_db()
            assert group.division_code == target.division_code + "007"
            # Its old code is free again in the old village.
            create(admin, source, source.division_code + "007", name="新第七组")

    def test_a_group_whose_code_the_new_village_uses_must_be_given_one(self, world):
        a = world.a
        group, target = a.groups[1], a.villages[3]  # both are their village's group 002
        with a.scope(), pytest.raises(ValidationError) as caught:
            services.association_move(
                actor=a.users["county_admin"], association=group, new_parent=target
            )
        error = caught.value.error_dict["new_division_code"][0]
        assert error.code == "group_code_taken"
        assert target.division_code + "002" in error.message
        with a.scope():
            assert Association.objects.get(pk=group.pk).parent_id == a.villages[0].pk

    def test_editing_a_villages_code_recodes_its_groups(self, world):
        a = world.a
        village = a.villages[1]
        with a.scope():
            services.association_update(
                actor=a.users["county_admin"], association=village, division_code="130534100288"
            )
            assert sorted(
                Association.objects.filter(parent=village).values_list("division_code", flat=True)
            ) == ["130534100288001", "130534100288002"]
            record = ChangeRecord.objects.get(action="update", object_id=a.groups[2].pk)
            assert record.changed_fields() == [("区划代码", "130534100201001", "130534100288001")]

    def test_move_refused_when_numbers_would_collide(self, world):
        a = world.a  # group 0 holds member 0001 of village 0; village 3 has its own 0001
        with a.scope(), pytest.raises(ValidationError) as caught:
            services.association_move(
                actor=a.users["county_admin"], association=a.groups[0], new_parent=a.villages[3]
            )
        assert "move_conflict" in codes(caught.value)
        with a.scope():
            assert Association.objects.get(pk=a.groups[0].pk).parent_id == a.villages[0].pk

    def test_moving_a_group_to_another_village(self, world):
        a = world.a
        group, target = a.groups[1], a.villages[3]
        with a.scope():
            services.association_move(
                actor=a.users["county_admin"],
                association=group,
                new_parent=target,
                new_division_code=target.division_code + "009",
            )
            group.refresh_from_db()
        assert (group.village_id, group.township_id, group.parent_id) == (
            target.pk,
            target.township_id,
            target.pk,
        )
        assert group.division_code == target.division_code + "009"

    @pytest.mark.parametrize(
        ("moved", "target", "expected"),
        [
            (("townships", 0), ("county", None), "move_level_not_movable"),
            (("villages", 0), ("villages", 2), "move_wrong_level"),
            (("villages", 0), ("townships", 0), "move_same_parent"),
            (("groups", 0), ("townships", 1), "move_wrong_level"),
        ],
    )
    def test_illegal_moves_change_nothing(self, world, moved, target, expected):
        a = world.a
        node = getattr(a, moved[0])[moved[1]]
        new_parent = a.county if target[0] == "county" else getattr(a, target[0])[target[1]]
        with a.scope():
            before = sorted(
                Association.objects.values_list("pk", "parent_id", "township_id", "village_id")
            )
            with pytest.raises(ValidationError) as caught:
                services.association_move(
                    actor=a.users["county_admin"], association=node, new_parent=new_parent
                )
            after = sorted(
                Association.objects.values_list("pk", "parent_id", "township_id", "village_id")
            )
            assert not ChangeRecord.objects.filter(action="move").exists()
        assert expected in codes(caught.value)
        assert before == after

    def test_move_to_another_county_is_refused(self, world):
        a, b = world.a, world.b
        with a.scope(), pytest.raises(ValidationError) as caught:
            services.association_move(
                actor=a.users["county_admin"], association=a.villages[0], new_parent=b.townships[0]
            )
        assert "move_other_county" in codes(caught.value)

    def test_bad_new_code_rolls_back_the_key_updates(self, world):
        a = world.a
        with a.scope():
            with pytest.raises(ValidationError):
                services.association_move(
                    actor=a.users["county_admin"],
                    association=a.villages[0],
                    new_parent=a.townships[1],
                    new_division_code="130534100299",
                )
            assert Association.objects.get(pk=a.groups[0].pk).township_id == a.townships[0].pk

    def test_only_county_admin_moves(self, world):
        a = world.a
        with a.scope(), pytest.raises(PermissionDenied):
            services.association_move(
                actor=a.users["township_staff"],
                association=a.villages[0],
                new_parent=a.townships[1],
            )


class TestCouncil:
    def test_seats_and_constraints(self, world):
        a = world.a
        village = a.villages[0]
        secretary = a.users["village_secretary"]
        council = a.councils[village.pk]
        with activate(Scope.for_node(village)):
            with pytest.raises(ValidationError) as caught:
                services.council_seat_add(
                    actor=secretary,
                    council=council,
                    position=CouncilPosition.PRESIDENT,
                    person_name="另一会长",
                    background=DirectorBackground.ELDER,
                )
            assert "council_president_taken" in codes(caught.value)
            seat = services.council_seat_add(
                actor=secretary,
                council=council,
                position=CouncilPosition.DIRECTOR,
                person_name="王秀英",
                background=DirectorBackground.ELDER,
            )
            with pytest.raises(ValidationError) as caught:
                services.council_seat_add(
                    actor=secretary,
                    council=council,
                    position=CouncilPosition.DIRECTOR,
                    person_name="王秀英",
                    background=DirectorBackground.ELDER,
                )
            assert "council_person_taken" in codes(caught.value)
            seat_id = seat.pk
            services.council_seat_remove(actor=secretary, seat=seat)
            assert not CouncilSeat.objects.filter(pk=seat_id).exists()
            assert ChangeRecord.objects.filter(action="delete", object_id=seat_id).exists()

    def test_term_numbers_are_unique_and_dates_ordered(self, world):
        a = world.a
        village = a.villages[0]
        with a.scope():
            with pytest.raises(ValidationError) as caught:
                services.council_create(
                    actor=a.users["county_admin"],
                    association=village,
                    term_number=1,
                    starts_on=datetime.date(2029, 1, 1),
                    ends_on=datetime.date(2034, 1, 1),
                )
            assert "council_term_taken" in codes(caught.value)
            with pytest.raises(ValidationError):
                services.council_create(
                    actor=a.users["county_admin"],
                    association=village,
                    term_number=2,
                    starts_on=datetime.date(2029, 1, 1),
                    ends_on=datetime.date(2028, 1, 1),
                )

    def test_group_leader_cannot_manage_council(self, world):
        a = world.a
        with a.scope(), pytest.raises(PermissionDenied):
            services.council_seat_add(
                actor=a.users["group_leader"],
                council=a.councils[a.villages[0].pk],
                position="director",
                person_name="某",
                background="elder",
            )


class TestUsers:
    def test_role_must_match_the_node_level(self, world):
        a = world.a
        with a.scope(), pytest.raises(ValidationError) as caught:
            services.user_create(
                actor=a.users["county_admin"],
                username="wrong",
                password="Strong@pass2026",
                node=a.villages[0],
                role=Role.TOWNSHIP_STAFF,
            )
        assert "role_wrong_level" in codes(caught.value)

    def test_only_county_admin_creates_accounts(self, world):
        a = world.a
        with a.scope(), pytest.raises(PermissionDenied):
            services.user_create(
                actor=a.users["township_staff"],
                username="x2",
                password="Strong@pass2026",
                node=a.villages[0],
                role=Role.VILLAGE_SECRETARY,
            )

    def test_usernames_are_unique_across_counties(self, world):
        b = world.b
        with b.scope(), pytest.raises(ValidationError) as caught:
            services.user_create(
                actor=b.users["county_admin"],
                username="ADMIN_130534",
                password="Strong@pass2026",
                node=b.villages[0],
                role=Role.VILLAGE_SECRETARY,
            )
        assert "username_unavailable" in codes(caught.value)
