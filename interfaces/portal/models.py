"""Guest-portal records: codes sent by SMS (P1 sign-in, P2 phone change) and e-mail confirmations (P2)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from guests.models import Guest


def sent_message() -> models.ForeignKey:
    """The message that carried a code or a link to the guest (kept when the log row goes)."""
    return models.ForeignKey(
        "channels_out.OutboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class LoginCode(models.Model):
    """One answered request for a code by SMS; the hourly send limits count these rows.

    A sign-in row is written for every accepted request, also for numbers we do not know
    (then without a guest, a hash or an SMS), so the limits and the answers are the same
    whether or not a number belongs to a guest. A phone-change row holds the code sent to
    the new number a signed-in guest gave; the number is stored on his profile only once he
    enters it. Only the code's HMAC is kept, never the code.
    """

    class Via(models.TextChoices):
        CODE = "code", "Code"
        LINK = "link", "Link"

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Sign in"
        PHONE_CHANGE = "phone_change", "Phone change"

    purpose = models.CharField(
        max_length=12, choices=Purpose.choices, default=Purpose.SIGN_IN, editable=False
    )
    phone = models.CharField(max_length=32, help_text="The number asked for, in E.164 form.")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    guest = models.ForeignKey(
        Guest,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_login_codes",
        help_text="Empty when the number belongs to no guest with a current or upcoming stay.",
    )
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    message = sent_message()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Codes entered against this row."
    )
    used_at = models.DateTimeField(null=True, blank=True)
    used_via = models.CharField(max_length=4, choices=Via.choices, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("phone", "-created_at"), name="portal_code_phone_idx"),
            models.Index(fields=("client_ip", "-created_at"), name="portal_code_client_idx"),
        ]
        permissions = [
            # The portal's staff permissions live on its main model.
            ("export_newsletter", "Can export guests with marketing e-mail consent"),
            ("export_consent_history", "Can export a guest's consent history"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {timezone.localtime(self.created_at):%d.%m.%Y %H:%M}"

    def is_expired(self, at: dt.datetime | None = None) -> bool:
        return (at or timezone.now()) >= self.expires_at


class EmailConfirmation(models.Model):
    """An e-mail address a guest gave in the portal, waiting for him to follow the link we sent."""

    guest = models.ForeignKey(
        Guest, on_delete=models.CASCADE, related_name="portal_email_confirmations"
    )
    email = models.EmailField()
    message = sent_message()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("guest", "-created_at"), name="portal_email_confirm_idx")]

    def __str__(self) -> str:
        return f"{self.email} ({'confirmed' if self.confirmed_at else 'waiting'})"
