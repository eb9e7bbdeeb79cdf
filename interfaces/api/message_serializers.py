"""What the message endpoints read and write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from channels_out.models import DeliveryEvent, OutboundMessage, SkipReason, Status
from crm_messaging.serializers import Choice, StrictSerializer, Text
from guests.models import ContactChannel

PURPOSES = [("service", "Service"), ("marketing", "Marketing")]
_EXTERNAL = "source:external_id, e.g. mews:8f2c…"


class MessageIn(StrictSerializer):
    channel = Choice(choices=ContactChannel.choices, required=False)
    plan = serializers.ListField(
        child=Choice(choices=ContactChannel.choices),
        required=False,
        min_length=1,
        max_length=4,
        help_text='Channels in fallback order, e.g. ["viber", "sms"]; instead of channel.',
    )
    guest = Text(max_length=150, required=False, help_text=f"The guest, as {_EXTERNAL}.")
    reservation = Text(
        max_length=150, required=False, help_text=f"The stay it is about, as {_EXTERNAL}."
    )
    to = Text(
        max_length=254,
        required=False,
        help_text="The address (e-mail or phone); the guest's own when left out.",
    )
    text = Text(required=False, max_length=20_000)
    subject = Text(required=False, max_length=255)
    template_id = Text(
        required=False, max_length=64, help_text="A provider template (WhatsApp content SID)."
    )
    template_variables = serializers.DictField(
        child=Text(max_length=1000, allow_blank=True), required=False
    )
    purpose = Choice(choices=PURPOSES, default="service")
    secrets = serializers.ListField(
        child=Text(min_length=4, max_length=200),
        required=False,
        max_length=10,
        help_text="Codes or tokens in the text: sent in full, kept masked in the log.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if ("channel" in attrs) == ("plan" in attrs):
            errors["channel"] = "Give a channel or a plan (one of them)."
        elif "plan" in attrs and len(set(attrs["plan"])) != len(attrs["plan"]):
            errors["plan"] = "Name each channel once."
        if not attrs.get("guest") and not attrs.get("reservation") and not attrs.get("to"):
            errors["to"] = "Give a guest, a reservation or an address."
        if bool(attrs.get("text")) == bool(attrs.get("template_id")):
            errors["text"] = "Give a text or a template id (one of them)."
        if attrs.get("template_variables") and not attrs.get("template_id"):
            errors["template_variables"] = "Template variables need a template id."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class EventOut(serializers.ModelSerializer):
    class Meta:
        model = DeliveryEvent
        fields = ("status", "at", "code", "description", "source", "applied")


class MessageOut(serializers.ModelSerializer):
    """A message as the send log keeps it: codes and links in its text stay masked."""

    guest = serializers.IntegerField(source="guest_id", allow_null=True)
    reservation = serializers.IntegerField(source="reservation_id", allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    skip_reason = serializers.ChoiceField(
        choices=[("", "—"), *SkipReason.choices], help_text="Why it was not sent, if skipped."
    )
    credits_spent = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Credits the ledger debited for it."
    )
    credits_held = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Credits reserved while the outcome is open."
    )
    # Declared, so the schema is the same on SQLite and PostgreSQL (their integer ranges differ).
    segments = serializers.IntegerField(min_value=0, max_value=32767)
    fallback = serializers.SerializerMethodField(help_text="The message it fell back to, if any.")
    events = EventOut(many=True, read_only=True)

    class Meta:
        model = OutboundMessage
        fields = (
            "id",
            "status",
            "channel",
            "purpose",
            "to",
            "guest",
            "reservation",
            "subject",
            "body",
            "template_id",
            "skip_reason",
            "reason",
            "segments",
            "credits",
            "credits_spent",
            "credits_held",
            "not_before",
            "created_at",
            "sent_at",
            "delivered_at",
            "finished_at",
            "fallback",
            "events",
        )

    def get_fallback(self, message: OutboundMessage) -> int | None:
        fallback = getattr(message, "fallback", None)
        return fallback.pk if fallback is not None else None


class MessageFilter(serializers.Serializer):
    """Query parameters: strings, read as DRF reads them."""

    status = serializers.ChoiceField(choices=Status.choices, required=False)
    channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False)
    purpose = serializers.ChoiceField(choices=PURPOSES, required=False)
    guest = serializers.CharField(max_length=150, required=False, help_text=_EXTERNAL)
    reservation = serializers.CharField(max_length=150, required=False, help_text=_EXTERNAL)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    mine = serializers.BooleanField(
        required=False, default=False, help_text="Only the messages this key sent."
    )


class CreditsOut(serializers.Serializer):
    available = serializers.DecimalField(max_digits=12, decimal_places=2)
    reserved = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Held for messages whose outcome is open."
    )
    low_balance_threshold = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_low = serializers.BooleanField()
