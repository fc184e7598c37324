"""Serializers of the assessment periods and submissions API."""

from __future__ import annotations

from rest_framework import serializers

from ..models import AssessmentPeriod, ManualScore, PeriodEvent, Submission, SubmissionEvent


class PeriodEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = PeriodEvent
        fields = ["action", "actor", "at", "reason"]


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="__str__", read_only=True)
    scheme = serializers.CharField(source="version.scheme.__str__", read_only=True)

    class Meta:
        model = AssessmentPeriod
        fields = [
            "id",
            "key",
            "label",
            "kind",
            "start_on",
            "end_on",
            "version",
            "scheme",
            "state",
            "due_on",
            "opened_at",
            "locked_at",
        ]


class PeriodDetailSerializer(PeriodSerializer):
    events = PeriodEventSerializer(many=True, read_only=True)
    expected = serializers.IntegerField(read_only=True)
    submitted = serializers.IntegerField(read_only=True)
    accepted = serializers.IntegerField(read_only=True)
    late = serializers.IntegerField(read_only=True)

    class Meta(PeriodSerializer.Meta):
        fields = [*PeriodSerializer.Meta.fields, "expected", "submitted", "accepted", "late"]
        fields += ["events"]


class ManualScoreSerializer(serializers.ModelSerializer):
    indicator_key = serializers.CharField(source="indicator.key", read_only=True)
    indicator_name = serializers.CharField(source="indicator.name", read_only=True)
    max_score = serializers.DecimalField(
        source="indicator.max_score", max_digits=6, decimal_places=2, read_only=True
    )

    class Meta:
        model = ManualScore
        fields = [
            "id",
            "indicator_key",
            "indicator_name",
            "max_score",
            "proposed",
            "note",
            "score",
            "review_note",
        ]


class SubmissionEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = SubmissionEvent
        fields = ["action", "actor", "at", "reason"]


class SubmissionSerializer(serializers.ModelSerializer):
    period_key = serializers.CharField(source="period.key", read_only=True)
    period_state = serializers.CharField(source="period.state", read_only=True)
    due_on = serializers.DateField(source="period.due_on", read_only=True)
    village_name = serializers.CharField(source="expected.name", read_only=True)
    township_name = serializers.CharField(source="expected.township_name", read_only=True)
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "period",
            "period_key",
            "period_state",
            "due_on",
            "village",
            "village_name",
            "township_name",
            "state",
            "note",
            "first_submitted_at",
            "submitted_at",
            "reviewed_at",
            "return_reason",
            "is_late",
        ]


class SubmissionDetailSerializer(SubmissionSerializer):
    scores = ManualScoreSerializer(many=True, read_only=True)
    events = SubmissionEventSerializer(many=True, read_only=True)

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "scores", "events"]


class ScoreInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="人工评分行的 id")
    score = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=0, allow_null=True, required=False
    )
    note = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class SubmissionSaveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    scores = ScoreInputSerializer(many=True, required=False, help_text="自评分和自评说明")


class ReviewSerializer(serializers.Serializer):
    scores = ScoreInputSerializer(many=True, required=False, help_text="审核得分和审核说明")


class ReturnSerializer(ReviewSerializer):
    reason = serializers.CharField(
        max_length=500, allow_blank=True, help_text="退回原因(必填)", required=False, default=""
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


def score_map(validated) -> dict:
    return {
        row["id"]: (row.get("score"), row.get("note", "")) for row in validated.get("scores", [])
    }
