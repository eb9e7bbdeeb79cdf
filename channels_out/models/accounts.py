"""Channel accounts (S1): how the hotel reaches a provider on each channel."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm_messaging.phones import InvalidPhone, normalise_phone
from guests.models import ContactChannel

from ..backends import backend_choices, backend_class
from ..crypto import EncryptedTextField
from ..text import unsendable_character

# RFC 5322 specials and line breaks that would break or inject into a From header (S11).
_FROM_NAME_FORBIDDEN = re.compile(r'[()<>,:@!/=;"\\\r\n]')


def sanitise_from_name(value: str) -> str:
    """Remove the characters a From display name may not carry (S11) and squeeze spaces."""
    return re.sub(r"\s+", " ", _FROM_NAME_FORBIDDEN.sub("", value)).strip()


def validate_from_name(value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValidationError(
            "The sender name cannot contain a line break.", code="header_injection"
        )
    code = unsendable_character(value)
    if code:
        raise ValidationError(
            f"The sender name contains a character an e-mail header cannot carry ({code}).",
            code="header_injection",
        )


class EngagementTracking(models.TextChoices):
    """Who tracks opens and clicks of an e-mail account's tracked messages (E3)."""

    OURS = "ours", _("Our pixel and signed redirects")
    ESP = "esp", _("The provider's own tracking")
    OFF = "off", _("No tracking")


class ChannelAccount(models.Model):
    """One provider account: SMTP server, SMS/WhatsApp provider or Viber provider.

    Secrets (password, auth token, API secret, webhook secret) are encrypted at rest and
    never shown back in forms. ``backend`` names an entry of the backend registry.
    """

    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    backend = models.CharField(_("backend"), max_length=30, choices=backend_choices)
    name = models.CharField(_("name"), max_length=80, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(
        _("default account"),
        default=False,
        help_text=_("Used when a send does not name an account."),
    )

    # Who the message is from.
    sender = models.CharField(
        _("sender"),
        max_length=254,
        blank=True,
        help_text=_(
            "E-mail: the from address. SMS/Viber: an alphanumeric sender ID (≤ 11) or an E.164 "
            "number. WhatsApp: the provider's E.164 number."
        ),
    )
    sender_name = models.CharField(
        _("sender name"),
        max_length=80,
        blank=True,
        validators=[validate_from_name],
        help_text=_("E-mail only: the from name."),
    )

    # SMTP.
    host = models.CharField(_("SMTP server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(
        _("port"), null=True, blank=True, validators=[MaxValueValidator(65535)]
    )
    use_tls = models.BooleanField("STARTTLS", default=True)
    use_ssl = models.BooleanField(_("implicit TLS (SMTPS)"), default=False)
    username = models.CharField(_("user name"), max_length=255, blank=True)

    # HTTP providers.
    account_id = models.CharField(
        _("account ID / API key"),
        max_length=100,
        blank=True,
        help_text=_("Twilio Account SID, Vonage API key or NetGSM user code."),
    )
    api_base_url = models.URLField(
        _("API address"),
        blank=True,
        help_text=_("Leave empty for the provider's own endpoint; set for a regional edge."),
    )

    # E-mail service providers (django-anymail).
    region = models.CharField(
        _("region"),
        max_length=40,
        blank=True,
        help_text=_("Amazon SES: the AWS region (e.g. eu-west-1)."),
    )
    esp_stream = models.CharField(
        _("configuration set / message stream"),
        max_length=100,
        blank=True,
        help_text=_(
            "Amazon SES: the configuration set that publishes events; Postmark: the message stream."
        ),
    )
    engagement_tracking = models.CharField(
        _("open and click tracking"),
        max_length=10,
        choices=EngagementTracking.choices,
        default=EngagementTracking.OURS,
        help_text=_("E-mail: who tracks opens and clicks of tracked messages."),
    )

    # Write-only secrets.
    secret = EncryptedTextField(
        _("secret"),
        blank=True,
        help_text=_(
            "SMTP password, Twilio auth token, Vonage API secret or NetGSM password. "
            "Never shown again."
        ),
    )
    webhook_secret = EncryptedTextField(
        _("webhook secret"),
        blank=True,
        help_text=_("Vonage: the signature secret that signs webhooks. Never shown again."),
    )

    # Behaviour.
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=15, validators=[MinValueValidator(1)]
    )
    rate_per_second = models.DecimalField(
        _("messages per second"),
        max_digits=7,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0.01)],
        help_text=_(
            "At most this many messages per second through this account, across all workers."
        ),
    )
    ttl_seconds = models.PositiveIntegerField(
        _("Viber time to live (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(1209600)],
        help_text=_(
            "Viber only: without a delivery receipt in this time, the message goes by SMS instead."
        ),
    )
    fallback_account = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fallback_for_accounts",
        limit_choices_to={"channel": ContactChannel.SMS},
        verbose_name=_("SMS account after Viber"),
        help_text=_("Viber only: the SMS account to fall back to."),
    )
    opt_out_hint = models.CharField(
        _("opt-out hint"),
        max_length=40,
        blank=True,
        help_text=_(
            "SMS, Viber, WhatsApp free text: the line every marketing message from this "
            "account ends with, in every language, e.g. “Reply STOP to opt out”. Empty: a "
            "built-in line in the message's language (English for a language without one). "
            "WhatsApp templates carry their own."
        ),
    )
    auto_reply = models.TextField(
        _("away message"),
        blank=True,
        help_text=_(
            "WhatsApp/SMS/Viber: the answer to an inbound message outside the staffed hours "
            "below (at all hours when none are set), e.g. “The reception answers from 08:00; "
            "please call the hotel for anything urgent.” Empty: no answer."
        ),
    )
    staffed_from = models.TimeField(
        _("staffed from"),
        null=True,
        blank=True,
        help_text=_("Inbox: from this time (hotel time) staff answer, and no away message goes."),
    )
    staffed_until = models.TimeField(
        _("staffed until"),
        null=True,
        blank=True,
        help_text=_("Inbox: until this time (hotel time); may be past midnight (08:00–02:00)."),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("channel", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("channel",),
                condition=Q(is_default=True),
                name="one_default_account_per_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"

    def clean(self) -> None:
        errors: dict[str, str | ValidationError] = {}
        try:
            backend = backend_class(self.backend)
        except KeyError:
            errors["backend"] = f"Unknown backend “{self.backend}”."
            raise ValidationError(errors) from None
        if self.channel not in backend.channels:
            errors["backend"] = gettext(
                "The %(backend)s backend sends %(channels)s, not %(channel)s."
            ) % {
                "backend": backend.label,
                "channels": ", ".join(backend.channels),
                "channel": self.get_channel_display(),
            }
        if self.channel == ContactChannel.WHATSAPP and self.sender:
            try:
                if normalise_phone(self.sender) != self.sender:
                    errors["sender"] = gettext(
                        "Write the WhatsApp number in E.164 form, e.g. +905321234567."
                    )
            except InvalidPhone as exc:
                errors["sender"] = exc
        if self.channel == ContactChannel.EMAIL:
            self.sender_name = sanitise_from_name(self.sender_name)
            if self.use_tls and self.use_ssl:
                errors["use_ssl"] = gettext("Choose STARTTLS or implicit TLS, not both.")
        if self.fallback_account_id is not None:
            if self.channel != ContactChannel.VIBER:
                errors["fallback_account"] = gettext("Only a Viber account falls back to SMS.")
            elif self.fallback_account and self.fallback_account.channel != ContactChannel.SMS:
                errors["fallback_account"] = gettext("The fallback account must be an SMS account.")
        if self.channel != ContactChannel.VIBER and self.ttl_seconds:
            errors["ttl_seconds"] = gettext("Only Viber messages have a time to live.")
        if (self.staffed_from is None) != (self.staffed_until is None):
            errors["staffed_until"] = gettext("Give both ends of the staffed hours, or neither.")
        elif self.staffed_from is not None and self.staffed_from == self.staffed_until:
            errors["staffed_until"] = gettext(
                "The staffed hours cannot start and end at the same time."
            )
        for field, message in backend.account_errors(self).items():
            errors.setdefault(field, message)
        if errors:
            raise ValidationError(errors)

    def is_staffed(self, at: dt.datetime) -> bool:
        """Whether staff answer at ``at`` (hotel time); no hours set means never: the away
        message then answers every inbound message, as the automatic answer always did."""
        start, end = self.staffed_from, self.staffed_until
        if start is None or end is None:
            return False
        now = timezone.localtime(at).time()
        return start <= now < end if start < end else (now >= start or now < end)

    @property
    def ttl(self) -> int:
        return self.ttl_seconds or 3600
