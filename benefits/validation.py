"""A field's error with its stable code (``ValidationError({field: "…"}, code=…)`` would drop
the code: a dict's messages each become an error of their own, coded "invalid")."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str, params: dict | None = None) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code, params=params)})
