"""What the sender layer does when its own signals fire: only schedule on-commit tasks."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from crm_messaging.handoff import hand_off_on_commit

from .services.alerts import EXHAUSTED, LOW
from .signals import credits_exhausted, credits_low


@receiver(credits_low, dispatch_uid="channels_out.credits_low_mail")
def mail_credits_low(**_: Any) -> None:
    hand_off_on_commit("channels_out.credit_alert", LOW)


@receiver(credits_exhausted, dispatch_uid="channels_out.credits_exhausted_mail")
def mail_credits_exhausted(**_: Any) -> None:
    hand_off_on_commit("channels_out.credit_alert", EXHAUSTED)
