"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from django.utils.encoding import force_str
from rest_framework import serializers


class ChoiceLabelField(serializers.CharField):
    """The label of a choice field's value, as `get_<field>_display()` gives it, read from the
    model field named by `source` (which may cross relations: "person.sex").

    `CharField(source="get_sex_display")` makes DRF inspect the signature of that bound
    partialmethod for every row (rest_framework.fields.is_simple_callable), which took about
    a third of a list request's time; this looks the label up in the field's choices."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.labels: dict = {}

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        model = parent.Meta.model
        for name in self.source_attrs[:-1]:
            model = model._meta.get_field(name).related_model
        self.labels = dict(model._meta.get_field(self.source_attrs[-1]).flatchoices)

    def to_representation(self, value):
        return force_str(self.labels.get(value, value), strings_only=True)


def label_maps(serializer) -> dict[str, dict]:
    """{field name: {value: label}} of a serializer's ChoiceLabelFields, worked out once per
    serializer (a list's rows share their serializer)."""
    maps = getattr(serializer, "_label_maps", None)
    if maps is None:
        maps = {
            name: {value: str(label) for value, label in field.labels.items()}
            for name, field in serializer.fields.items()
            if isinstance(field, ChoiceLabelField)
        }
        serializer._label_maps = maps
    return maps


def iso_day(value):
    """A date as DRF's DateField writes it with the default settings (ISO 8601)."""
    return None if value is None else value.isoformat()
