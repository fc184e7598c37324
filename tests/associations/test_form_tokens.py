"""Used form tokens (associations.submissions) are deleted a month after their form was sent,
by celery beat's nightly entry, county by county in each county's own scope: another
county's tokens are never touched by a county's prune, the records the forms created stay,
and a form sent again within the month is still answered with its first sending's record."""

import datetime
import uuid
from dataclasses import asdict

import pytest
from django.utils import timezone

from associations import submissions
from associations.models import FormSubmission
from associations.scope import Scope, activate
from associations.tasks import prune_form_tokens_everywhere, prune_form_tokens_in_scope
from households.models import Household

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def used_token(county, *, age: datetime.timedelta) -> uuid.UUID:
    """A token the village secretary's household form used `age` ago."""
    user, household = county.users["village_secretary"], county.households[0]
    token = uuid.uuid4()
    with activate(Scope.for_node(user.node)):
        assert submissions.claim(actor=user, token=token, node=user.node, model=Household) is None
        submissions.complete(token=token, obj=household)
        FormSubmission.objects.filter(token=token).update(created_at=timezone.now() - age)
    return token


def kept(county, tokens) -> set:
    """Which of `tokens` the county still holds (read in the county's scope)."""
    with activate(Scope.for_node(county.county)):
        return set(FormSubmission.objects.filter(token__in=tokens).values_list("token", flat=True))


def scope_of(county) -> dict:
    return asdict(Scope.for_node(county.county))


def test_a_countys_prune_deletes_its_old_tokens_only(world):
    a_old, a_recent = used_token(world.a, age=31 * DAY), used_token(world.a, age=29 * DAY)
    b_old, b_recent = used_token(world.b, age=31 * DAY), used_token(world.b, age=DAY)

    assert prune_form_tokens_in_scope(scope=scope_of(world.a)) == 1
    assert kept(world.a, [a_old, a_recent]) == {a_recent}
    assert kept(world.b, [b_old, b_recent]) == {b_old, b_recent}  # not A's to delete
    assert prune_form_tokens_in_scope(scope=scope_of(world.a)) == 0  # idempotent
    with activate(Scope.for_node(world.a.county)):
        assert Household.objects.filter(pk=world.a.households[0].pk).exists()


def test_the_nightly_entry_prunes_every_county_in_its_own_scope(world):
    a_old, a_recent = used_token(world.a, age=40 * DAY), used_token(world.a, age=2 * DAY)
    b_old, b_recent = used_token(world.b, age=365 * DAY), used_token(world.b, age=0 * DAY)

    assert prune_form_tokens_everywhere() >= 2  # one scoped task per county (eager in tests)
    assert kept(world.a, [a_old, a_recent]) == {a_recent}
    assert kept(world.b, [b_old, b_recent]) == {b_recent}


def test_it_deletes_in_batches_and_a_recent_form_sent_again_still_acts_once(world):
    old = [used_token(world.a, age=(31 + n) * DAY) for n in range(5)]
    recent = used_token(world.a, age=3 * DAY)
    user = world.a.users["village_secretary"]

    with activate(Scope.for_node(user.node)):
        assert submissions.prune(batch=2) == 5  # three batches: 2, 2 and 1
        assert submissions.prune(batch=2) == 0
        again = submissions.claim(actor=user, token=recent, node=user.node, model=Household)
        assert again == world.a.households[0]
    assert kept(world.a, [*old, recent]) == {recent}
