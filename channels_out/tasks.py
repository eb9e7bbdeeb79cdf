"""Celery tasks: thin wrappers that take ids and call the dispatcher."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any

import requests
from celery import shared_task
from django.conf import settings
from django.urls import reverse

from crm_messaging.handoff import hand_off

from . import dispatch
from .backends import sandbox
from .models import ChannelAccount, CreditOrder
from .services.alerts import credit_alert_mail
from .services.credits import credit_invoice_send
from .services.mailboxes import mailboxes_poll
from .services.maintenance import delivery_events_purge
from .services.receipts import receipts_poll


@shared_task(name="channels_out.deliver_messages", ignore_result=True)
def deliver_messages(message_ids: list[int]) -> None:
    """Send these messages now; schedule the ones that hit a transient error for later."""
    for message_id, delay in dispatch.deliver(message_ids).items():
        # The row is queued again: if the broker cannot take the retry, the sweeper sends it.
        hand_off(deliver_messages, [message_id], countdown=delay)


@shared_task(name="channels_out.sweep", ignore_result=True)
def sweep() -> dict[str, Any]:
    """Periodic: re-dispatch forgotten queued messages, settle stuck sends, start Viber TTL fallbacks."""
    found = dispatch.sweep()
    due = found.pop("due")
    dispatched = 0
    for start in range(0, len(due), dispatch.CHUNK):
        chunk = due[start : start + dispatch.CHUNK]
        if hand_off(deliver_messages, chunk):  # else the next sweep tries again
            dispatched += len(chunk)
    found["dispatched"] = dispatched
    return found


@shared_task(
    name="channels_out.credit_alert",
    ignore_result=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    max_retries=5,
    retry_backoff=30,
)
def credit_alert(kind: str) -> int:
    """Tell the managers by e-mail that credits are low or exhausted (see ``credit_alert_mail``)."""
    return credit_alert_mail(kind=kind)


@shared_task(
    name="channels_out.credit_invoice_mail",
    ignore_result=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    max_retries=5,
    retry_backoff=30,
)
def credit_invoice_mail(order_id: int) -> int:
    """E-mail a credit order's invoice to the managers (see ``credit_invoice_send``)."""
    order = CreditOrder.objects.filter(pk=order_id).first()
    return credit_invoice_send(order=order) if order is not None else 0


@shared_task(name="channels_out.poll_receipts", ignore_result=True)
def poll_receipts() -> int:
    """Periodic: ask providers without delivery webhooks (NetGSM) for their receipts."""
    return receipts_poll()


@shared_task(name="channels_out.purge_delivery_events", ignore_result=True)
def purge_delivery_events() -> int:
    """Daily: delete delivery events older than DELIVERY_EVENT_RETENTION_DAYS."""
    return delivery_events_purge(
        older_than=dt.timedelta(days=settings.DELIVERY_EVENT_RETENTION_DAYS)
    )


@shared_task(name="channels_out.poll_reply_mailboxes", ignore_result=True)
def poll_reply_mailboxes() -> dict[int, int | str]:
    """Periodic: read guests' e-mail replies from every active IMAP reply mailbox."""
    return mailboxes_poll()


@shared_task(
    name="channels_out.sandbox_receipt", ignore_result=True, max_retries=5, default_retry_delay=5
)
def sandbox_receipt(
    *,
    account_id: int,
    provider_message_id: str,
    status: str,
    message_ref: str,
    code: str = "",
    description: str = "",
) -> None:
    """The sandbox provider's side: post a signed delivery receipt to our status webhook over HTTP."""
    account = ChannelAccount.objects.get(pk=account_id)
    body = sandbox.receipt_body(
        provider_message_id=provider_message_id,
        status=status,
        message_ref=message_ref,
        code=code,
        description=description,
    )
    try:
        _post_signed(account, "channels_out:status-webhook", body)
    except requests.RequestException as exc:
        raise sandbox_receipt.retry(exc=exc) from exc


@shared_task(
    name="channels_out.sandbox_guest_reply",
    ignore_result=True,
    max_retries=5,
    default_retry_delay=5,
)
def sandbox_guest_reply(*, account_id: int, from_number: str, channel: str, body: str) -> None:
    """The sandbox provider's side: a guest answers; post it, signed, to our inbound webhook."""
    account = ChannelAccount.objects.get(pk=account_id)
    payload = sandbox.inbound_body(from_number=from_number, body=body, channel=channel)
    try:
        _post_signed(account, "channels_out:inbound-webhook", payload)
    except requests.RequestException as exc:
        raise sandbox_guest_reply.retry(exc=exc) from exc


def _post_signed(account: ChannelAccount, url_name: str, body: bytes) -> None:
    """Post ``body`` to one of ``account``'s webhooks at PUBLIC_BASE_URL, signed as the sandbox
    provider signs; raise requests.RequestException when it does not arrive."""
    url = settings.PUBLIC_BASE_URL + reverse(url_name, kwargs={"account_id": account.pk})
    answer = requests.post(
        url,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            sandbox.SIGNATURE_HEADER: sandbox.sign(account, body),
        },
    )
    answer.raise_for_status()
