import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from activities import catalogues
from activities.models import Material, Theme, ThemedDay
from associations.models import ChangeRecord
from associations.scope import Scope, activate

pytestmark = pytest.mark.django_db


def test_first_use_seeds_the_defaults_once_and_a_village_can_read_them(world):
    a = world.a
    with activate(Scope.for_node(a.villages[0])):
        names = [t.name for t in catalogues.themes(county_id=a.county.pk)]
        again = catalogues.themes(county_id=a.county.pk)
        days = [str(d) for d in catalogues.themed_days(county_id=a.county.pk)]
        stock = [str(m) for m in catalogues.materials(county_id=a.county.pk)]
    assert names == list(catalogues.DEFAULT_THEMES) and len(again) == 7
    assert days == [
        "3.8 妇女节",
        "5.29 会员活动日",
        "7.11 世界人口日",
        "9.25 公开信发表纪念日",
        "10.28 男性健康日",
        "12.1 世界艾滋病日",
    ]
    assert stock == [
        "宣传资料(份)",
        "避孕药具(盒)",
        "避孕药具(只)",
        "横幅(幅)",
        "展板(块)",
        "宣传品(个)",
    ]
    with activate(Scope.for_node(a.county)):
        assert Theme.objects.count() == 7
        assert ChangeRecord.objects.filter(object_type="activities.Theme").count() == 7
    with activate(Scope.for_node(world.b.county)):
        assert Theme.objects.count() == 0  # county B is seeded on its own first use


def test_the_county_edits_its_list_and_retired_items_stay_retired(world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        catalogues.themes(county_id=a.county.pk)
        theme = catalogues.theme_add(actor=admin, name="优生优育")
        catalogues.theme_update(
            actor=admin, theme=Theme.objects.get(name="红五月"), is_active=False
        )
        day = catalogues.themed_day_add(actor=admin, month=4, day=22, name="签名活动日")
        active = [t.name for t in catalogues.themes(county_id=a.county.pk)]
        assert "优生优育" in active and "红五月" not in active
        assert len(catalogues.themes(county_id=a.county.pk, active_only=False)) == 8
        assert str(day) == "4.22 签名活动日" and theme.county_id == a.county.pk
        with pytest.raises(ValidationError):
            catalogues.theme_add(actor=admin, name="关爱女孩")
        with pytest.raises(ValidationError):
            catalogues.themed_day_add(actor=admin, month=2, day=30, name="无")


def test_only_county_staff_edit_the_catalogues(world):
    a = world.a
    for key in ("village_secretary", "township_staff", "county_viewer"):
        user = a.users[key]
        with activate(Scope.for_node(user.node)), pytest.raises(PermissionDenied):
            catalogues.material_add(actor=user, name="宣传册", unit="本")


def test_the_command_seeds_a_county_and_leaves_an_edited_one_alone(world):
    a = world.a
    call_command("seed_activity_catalogues", county=a.county.division_code)
    with activate(Scope.for_node(a.county)):
        material = Material.objects.get(name="横幅")
        catalogues.material_update(
            actor=a.users["county_admin"], material=material, is_active=False
        )
    call_command("seed_activity_catalogues", county=a.county.division_code)
    with activate(Scope.for_node(a.county)):
        assert Material.objects.count() == 6
        assert ThemedDay.objects.count() == 6
        assert not Material.objects.get(name="横幅").is_active
