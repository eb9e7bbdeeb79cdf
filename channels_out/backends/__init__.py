"""The backend registry: names → dotted paths, imported on first use (healthchecks-style).

The names feed ``ChannelAccount.backend`` choices; ``backend_class`` raises KeyError for an
unknown name.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from .base import Accepted, Backend, Inbound, StatusUpdate, TransportError, WebhookRejected

if TYPE_CHECKING:
    from ..models import ChannelAccount

BACKENDS: dict[str, tuple[str, str]] = {
    "smtp": ("channels_out.backends.smtp.SmtpBackend", "SMTP"),
    "twilio_sms": ("channels_out.backends.twilio_sms.TwilioSmsBackend", "Twilio SMS"),
    "twilio_whatsapp": (
        "channels_out.backends.twilio_whatsapp.TwilioWhatsAppBackend",
        "Twilio WhatsApp",
    ),
    "vonage_viber": ("channels_out.backends.viber.VonageViberBackend", "Vonage Viber"),
    "netgsm": ("channels_out.backends.netgsm.NetgsmBackend", "NetGSM SMS"),
    "anymail_amazon_ses": (
        "channels_out.backends.anymail.AmazonSesBackend",
        "Amazon SES (anymail)",
    ),
    "anymail_mailgun": ("channels_out.backends.anymail.MailgunBackend", "Mailgun (anymail)"),
    "anymail_sendgrid": ("channels_out.backends.anymail.SendGridBackend", "SendGrid (anymail)"),
    "anymail_postmark": ("channels_out.backends.anymail.PostmarkBackend", "Postmark (anymail)"),
    "anymail_brevo": ("channels_out.backends.anymail.BrevoBackend", "Brevo (anymail)"),
    "sandbox": ("channels_out.backends.sandbox.SandboxBackend", "Sandbox (simulated provider)"),
    "locmem": ("channels_out.backends.locmem.LocmemBackend", "In-memory (tests)"),
}
# The labels that are words, not product names, in the staff's language.
_TRANSLATED_LABELS = {
    "sandbox": gettext_lazy("Sandbox (simulated provider)"),
    "locmem": gettext_lazy("In-memory (tests)"),
}


def backend_choices() -> list[tuple[str, Any]]:
    return [(name, _TRANSLATED_LABELS.get(name, label)) for name, (_, label) in BACKENDS.items()]


@cache
def backend_class(name: str) -> type[Backend]:
    """Return the backend class registered as ``name``; KeyError if there is none."""
    return import_string(BACKENDS[name][0])


def get_backend(account: ChannelAccount) -> Backend:
    return backend_class(account.backend)(account)


__all__ = [
    "BACKENDS",
    "Accepted",
    "Backend",
    "Inbound",
    "StatusUpdate",
    "TransportError",
    "WebhookRejected",
    "backend_choices",
    "backend_class",
    "get_backend",
]
