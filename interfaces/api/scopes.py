"""What an API key may do: one scope per kind of write or read."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    RESERVATIONS_WRITE = (
        "reservations:write",
        _("Create and update reservations and facility bookings"),
    )
    GUESTS_WRITE = "guests:write", _("Create and update guests, their consents and greylist")
    MESSAGES_SEND = "messages:send", _("Send messages")
    MESSAGES_READ = "messages:read", _("Read messages, their statuses and the credit balance")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Register and change webhook endpoints")
