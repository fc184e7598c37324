import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from associations.middleware import scope_for_user
from associations.models import Association, ChangeRecord, Council, CouncilSeat
from associations.scope import (
    NoActiveScope,
    Scope,
    UnscopedReason,
    activate,
    current_scope,
    unscoped,
)
from associations.services import scoped_models

pytestmark = pytest.mark.django_db

# Declared at import time, outside any scope, as forms and serializers do.
DECLARED_OUTSIDE = Association.objects.filter(level="village")


class NodeChoiceForm(forms.Form):
    node = forms.ModelChoiceField(queryset=Association.objects.all())


@pytest.mark.parametrize("model", scoped_models(), ids=lambda m: m._meta.label)
def test_every_scoped_model_raises_without_scope(world, model):
    with pytest.raises(NoActiveScope):
        list(model.objects.all())
    with pytest.raises(NoActiveScope):
        model.objects.count()
    with pytest.raises(NoActiveScope):
        model.objects.filter(pk=1).exists()


def test_update_and_delete_without_scope_raise_and_change_nothing(world):
    with pytest.raises(NoActiveScope):
        Association.objects.filter(level="group").update(name="x")
    with pytest.raises(NoActiveScope):
        CouncilSeat.objects.all().delete()
    with world.a.scope():
        assert not Association.objects.filter(name="x").exists()
        assert CouncilSeat.objects.count() == 4


def test_scope_limits_rows_to_the_subtree(world):
    a = world.a
    with activate(Scope.for_node(a.villages[0])):
        names = set(Association.objects.values_list("pk", flat=True))
        assert names == {a.villages[0].pk, a.groups[0].pk, a.groups[1].pk}
        assert list(Council.objects.all()) == [a.councils[a.villages[0].pk]]
    with activate(Scope.for_node(a.townships[1])):
        ids = set(Association.objects.values_list("pk", flat=True))
        assert a.townships[0].pk not in ids and a.villages[0].pk not in ids
        assert a.villages[2].pk in ids
    with activate(Scope.for_node(world.b.county)):
        assert not Association.objects.filter(county=a.county).exists()


def test_queryset_declared_outside_scope_takes_the_scope_it_is_cloned_in(world):
    with pytest.raises(NoActiveScope):
        list(DECLARED_OUTSIDE)
    with activate(Scope.for_node(world.a.townships[0])):
        ids = set(DECLARED_OUTSIDE.all().values_list("pk", flat=True))
    assert ids == {world.a.villages[0].pk, world.a.villages[1].pk}


def test_form_choices_come_through_the_scope(world):
    with activate(Scope.for_node(world.a.villages[0])):
        choices = {value.value for value, _ in NodeChoiceForm().fields["node"].choices if value}
        assert choices == {world.a.villages[0].pk, world.a.groups[0].pk, world.a.groups[1].pk}
        form = NodeChoiceForm({"node": world.b.villages[0].pk})
        assert not form.is_valid()


def test_subquery_of_pending_queryset_raises_outside_scope(world):
    with pytest.raises(NoActiveScope):
        list(Council.objects.filter(association__in=DECLARED_OUTSIDE))


def test_scoped_filter_is_one_indexed_equality(world):
    with activate(Scope.for_node(world.a.townships[0])), CaptureQueriesContext(connection) as q:
        list(ChangeRecord.objects.all()[:5])
    sql = q.captured_queries[0]["sql"]
    assert '"township_id" = ' in sql


def test_unscoped_needs_a_listed_reason(world):
    with pytest.raises(TypeError), unscoped(reason="because"):
        pass
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        assert Association.objects.filter(level="county").count() == 2
    assert current_scope() is None


def test_request_scope_is_reset_after_the_response(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    response = client.get(f"/nodes/{user.node_id}/")
    assert response.status_code == 200
    assert current_scope() is None


def test_scope_for_user(world):
    user = world.a.users["township_staff"]
    scope = scope_for_user(user)
    assert scope == Scope(
        county_id=world.a.county.pk, node_id=world.a.townships[0].pk, level="township"
    )
    user.is_active = False
    assert scope_for_user(user) is None
