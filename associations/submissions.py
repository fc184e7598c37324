"""One-time form tokens: a form sent twice creates its record once.

A creating form carries a hidden token, new for each rendering of the page (and kept by the
browser's draft of the form, so a page reloaded with a restored draft keeps it). The service
that creates the record claims the token in its own transaction, before writing anything:
- the token was used before: the service returns what the first sending created;
- the same form is being sent at this moment by another request: the claim waits for that
  transaction, then finds its record;
- the first sending failed (a validation error rolls its claim back): the token is free again.

A used token is kept only as long as its form can come back (`prune`, every night).
"""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import Association, FormSubmission


class FormTokenField(forms.Field):
    """The hidden token. A missing or malformed token is None: the form still saves, only
    without protection against a second sending (an API client or an old cached page)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("initial", uuid.uuid4)
        super().__init__(**kwargs)

    def clean(self, value) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(value).strip())
        except (TypeError, ValueError, AttributeError):
            return None


def _earlier_result(*, actor, token: uuid.UUID, model: type[models.Model]):
    submission = (
        FormSubmission.objects.filter(token=token, user=actor, object_type=model._meta.label)
        .exclude(object_id=None)
        .first()
    )
    if submission is None:
        return None
    return model.objects.filter(pk=submission.object_id).first()


def claim(*, actor, token: uuid.UUID | None, node: Association, model: type[models.Model]):
    """Claim `token` for a record of `model` to be created at `node`. Returns the record an
    earlier sending of the same form created, or None when this sending is the first (the
    caller then creates the record and calls `complete`). Call inside the caller's
    transaction, after its permission checks."""
    if token is None:
        return None
    earlier = _earlier_result(actor=actor, token=token, model=model)
    if earlier is not None:
        return earlier
    submission = FormSubmission(token=token, user=actor, object_type=model._meta.label)
    submission.place_under(node)
    try:
        with transaction.atomic():
            submission.save()
    except IntegrityError:
        # A concurrent sending of this form committed first (READ COMMITTED: this query
        # sees its rows now).
        earlier = _earlier_result(actor=actor, token=token, model=model)
        if earlier is not None:
            return earlier
        raise ValidationError(
            "这张表单已经提交过。请重新打开页面再填写。", code="form_token_used"
        ) from None
    return None


def complete(*, token: uuid.UUID | None, obj: models.Model) -> None:
    """Record what the claimed token created, in the same transaction as `obj`."""
    if token is None:
        return
    FormSubmission.objects.filter(token=token, object_type=obj._meta.label).update(object_id=obj.pk)


# A token only answers the same form sent again: a double tap, Back, a retry after a dropped
# connection (within a signed-in session, 8 hours; a draft lives in its browser tab), or an
# API client retrying with its idempotency key (minutes, a day at most). A month is far past
# all of them; by then the token is dead weight.
RETENTION = datetime.timedelta(days=30)
PRUNE_BATCH = 5000


def prune(*, now: datetime.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the active scope's tokens used more than RETENTION ago (the records they
    created stay); returns how many. In batches of `batch`, each its own transaction, so
    that a first run over years of tokens holds no long lock; run again, it deletes nothing
    more."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted = 0
    while True:
        ids = list(
            FormSubmission.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            with transaction.atomic():
                deleted += FormSubmission.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch:
            return deleted
