"""What every API input shares (the integration API's and the webhook endpoints'): a
serializer that refuses fields it does not know, and fields that take JSON as the schema says:
a string where it says string, an integer (not "5", not true) where it says integer,
true/false where it says boolean. DRF's own fields coerce ("5" → 5, 0 → "0"); an API whose
schema is checked against its behaviour may not."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


def _require(field: serializers.Field, data: Any, kinds: tuple[type, ...], what: str) -> None:
    if isinstance(data, bool) and bool not in kinds or not isinstance(data, kinds):
        raise serializers.ValidationError(f"Give {what}.", code="invalid_type")


class Text(serializers.CharField):
    def to_internal_value(self, data: Any) -> Any:
        _require(self, data, (str,), "a string")
        return super().to_internal_value(data)


class Pattern(serializers.RegexField):
    def to_internal_value(self, data: Any) -> Any:
        _require(self, data, (str,), "a string")
        return super().to_internal_value(data)


class Choice(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if all(isinstance(key, int) for key in self.choices):
            _require(self, data, (int,), "an integer")
        else:
            _require(self, data, (str,), "a string")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> Any:
        _require(self, data, (int,), "an integer")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> Any:
        _require(self, data, (bool,), "true or false")
        return super().to_internal_value(data)


class Money(serializers.DecimalField):
    """A decimal amount, written as a string ("120.50") so no float rounding comes between."""

    def to_internal_value(self, data: Any) -> Any:
        _require(self, data, (str,), 'a decimal string, e.g. "120.50"')
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo is an error, not silently ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
