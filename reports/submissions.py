"""The submission workflow of an assessment period.

- The village (村(社区)秘书长, at the village itself) fills its proposed manual scores with
  notes (evidence) and its note, then submits; a returned submission can be changed and
  submitted again. Only its own submission: another village's is not in its scope (404).
- Township staff (乡镇专干 of the township the village is under now) review a submitted one:
  they enter the score that counts for each manual indicator (the village's proposal is shown
  beside it and pre-fills the field) and accept — which freezes the scores — or return it
  with a reason the village then sees.
- Nothing changes once the period is locked.
Every step is a SubmissionEvent (who, when, the reason of a return)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from associations import permissions as association_permissions
from associations.models import Level, Role

from .models import ManualScore, Submission, SubmissionEvent

EDITABLE_BY_VILLAGE = {Submission.State.DRAFT, Submission.State.RETURNED}
LOCKED_MESSAGE = "考核期已锁定,报送不能再修改;如需修改请联系县级管理员重新开放。"


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def can_fill(user, submission: Submission) -> bool:
    """The village's own accounts that may edit it (not its group leaders)."""
    return (
        user.node_level == Level.VILLAGE
        and user.node_id == submission.village_id
        and user.role == Role.VILLAGE_SECRETARY
    )


def can_review(user, submission: Submission) -> bool:
    return user.role == Role.TOWNSHIP_STAFF and user.node_id == submission.township_id


def _for_update(submission: Submission) -> Submission:
    locked = Submission.objects.select_for_update().select_related("period").get(pk=submission.pk)
    if locked.period.is_locked:
        raise ValidationError(LOCKED_MESSAGE, code="period_locked")
    return locked


def _event(submission: Submission, action: str, actor, reason: str = "") -> None:
    event = SubmissionEvent(submission=submission, action=action, actor=actor, reason=reason)
    event.place_under(submission.village)
    event.save()


def score_rows(submission: Submission) -> list[ManualScore]:
    return list(
        ManualScore.objects.filter(submission=submission)
        .select_related("indicator")
        .order_by("indicator__order", "id")
    )


def _decimal(value, row: ManualScore, field: str, required: bool) -> Decimal | None:
    name = row.indicator.name
    if value is None or str(value).strip() == "":
        if required:
            raise _error(field, f"请填写“{name}”的得分。", "required")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _error(field, f"“{name}”的得分应为数字。", "invalid") from None
    if not number.is_finite() or number < 0 or number > row.indicator.max_score:
        raise _error(
            field, f"“{name}”的得分应在 0 至 {row.indicator.max_score} 分之间。", "out_of_range"
        )
    if number != number.quantize(Decimal("0.01")):
        raise _error(field, f"“{name}”的得分最多保留两位小数。", "invalid")
    return number


def _apply(rows, scores: dict, *, value_field: str, note_field: str, required: bool) -> bool:
    """Set each row's score and note from {row id: (score, note)}; whether any changed."""
    changed = False
    for row in rows:
        given = scores.get(row.pk, scores.get(str(row.pk)))
        if given is None:
            if required and getattr(row, value_field) is None:
                _decimal(None, row, f"score_{row.pk}", required=True)
            continue
        value, note = given
        number = _decimal(value, row, f"score_{row.pk}", required)
        note = (note or "").strip()[:500]
        if (getattr(row, value_field), getattr(row, note_field)) != (number, note):
            setattr(row, value_field, number)
            setattr(row, note_field, note)
            row.save(update_fields=[value_field, note_field])
            changed = True
    return changed


@transaction.atomic
def submission_save(*, actor, submission: Submission, note: str | None = None, scores=None):
    """The village's note and proposed scores {ManualScore id: (score, note)}."""
    association_permissions.require(can_fill(actor, submission), "只有本村(社区)可以填写报送。")
    submission = _for_update(submission)
    if submission.state not in EDITABLE_BY_VILLAGE:
        raise ValidationError(
            f"报送{submission.get_state_display()},不能修改。", code="not_editable"
        )
    changed = _apply(
        score_rows(submission),
        scores or {},
        value_field="proposed",
        note_field="note",
        required=False,
    )
    if note is not None and note.strip() != submission.note:
        submission.note = note.strip()
        submission.save(update_fields=["note"])
        changed = True
    if changed:
        _event(submission, SubmissionEvent.Action.SAVED, actor)
    return submission


@transaction.atomic
def submission_submit(*, actor, submission: Submission) -> Submission:
    association_permissions.require(can_fill(actor, submission), "只有本村(社区)可以报送。")
    submission = _for_update(submission)
    if submission.state not in EDITABLE_BY_VILLAGE:
        raise ValidationError(
            f"报送{submission.get_state_display()},不能再次报送。", code="not_editable"
        )
    now = timezone.now()
    submission.state, submission.submitted_at, submission.submitted_by = (
        Submission.State.SUBMITTED,
        now,
        actor,
    )
    submission.first_submitted_at = submission.first_submitted_at or now
    submission.save(update_fields=["state", "submitted_at", "submitted_by", "first_submitted_at"])
    _event(submission, SubmissionEvent.Action.SUBMITTED, actor)
    return submission


def _require_reviewable(actor, submission: Submission) -> Submission:
    association_permissions.require(
        can_review(actor, submission), "只有所属乡镇(街道)专干可以审核报送。"
    )
    submission = _for_update(submission)
    if submission.state != Submission.State.SUBMITTED:
        raise ValidationError(
            f"报送{submission.get_state_display()},只有待审核的报送可以审核。",
            code="not_submitted",
        )
    return submission


@transaction.atomic
def submission_accept(*, actor, submission: Submission, scores=None) -> Submission:
    """审核通过, with the township's score of every manual indicator {id: (score, note)}
    (each required, 0 to the indicator's max); the scores are frozen from then on."""
    submission = _require_reviewable(actor, submission)
    _apply(
        score_rows(submission),
        scores or {},
        value_field="score",
        note_field="review_note",
        required=True,
    )
    submission.state, submission.reviewed_at, submission.reviewed_by = (
        Submission.State.ACCEPTED,
        timezone.now(),
        actor,
    )
    submission.return_reason = ""
    submission.save(update_fields=["state", "reviewed_at", "reviewed_by", "return_reason"])
    _event(submission, SubmissionEvent.Action.ACCEPTED, actor)
    return submission


@transaction.atomic
def submission_return(*, actor, submission: Submission, reason: str, scores=None) -> Submission:
    """退回, with the reason the village sees (required). Scores given are kept as a draft of
    the township's review."""
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", "请填写退回原因。", "required")
    submission = _require_reviewable(actor, submission)
    if scores:
        _apply(
            score_rows(submission),
            scores,
            value_field="score",
            note_field="review_note",
            required=False,
        )
    submission.state, submission.reviewed_at, submission.reviewed_by = (
        Submission.State.RETURNED,
        timezone.now(),
        actor,
    )
    submission.return_reason = reason
    submission.save(update_fields=["state", "reviewed_at", "reviewed_by", "return_reason"])
    _event(submission, SubmissionEvent.Action.RETURNED, actor, reason)
    return submission
