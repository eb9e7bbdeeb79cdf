"""Telling managers about the balance (K5): low credits, and automated sends stopped at zero."""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from ..ledger import credits_text
from ..models import CreditBalance, MessagingPolicy

logger = logging.getLogger(__name__)

LOW, EXHAUSTED = "low", "exhausted"
# Who is told: whoever may see the credits screen (the manager role), when active with an address.
MANAGER_PERMISSION = "channels_out.view_creditorder"


def manager_addresses() -> list[str]:
    """Return the addresses of the active staff who may see the credits screen."""
    users = get_user_model().objects.with_perm(  # type: ignore[attr-defined]
        MANAGER_PERMISSION, backend="django.contrib.auth.backends.ModelBackend"
    )
    return sorted({u.email for u in users.filter(is_active=True).exclude(email="")})


def credit_alert_mail(*, kind: str) -> int:
    """E-mail the managers that credits are low (``kind="low"``) or that sends stopped (``"exhausted"``).

    The mail states the balance as it is when sent, in the hotel's staff language, with the
    link to the credits screen. Returns how many were addressed; raises what the mail
    connection raises (the task retries).
    """
    if kind not in (LOW, EXHAUSTED):
        raise ValueError(f"unknown credit alert {kind!r}")
    recipients = manager_addresses()
    if not recipients:
        logger.warning("Credits are %s but no manager has an e-mail address to tell.", kind)
        return 0
    balance = CreditBalance.load()
    threshold = MessagingPolicy.load().low_balance_threshold
    with translation.override(settings.LANGUAGE_CODE):  # words and numbers alike
        context = {
            "kind": kind,
            "available": credits_text(balance.available),
            "threshold": credits_text(threshold),
            "url": urljoin(settings.PUBLIC_BASE_URL, reverse("channels_out:credits")),
        }
        subject = render_to_string("channels_out/mail/credit_alert_subject.txt", context)
        body = render_to_string("channels_out/mail/credit_alert.txt", context)
    send_mail(" ".join(subject.split()), body, None, recipients, fail_silently=False)
    return len(recipients)
