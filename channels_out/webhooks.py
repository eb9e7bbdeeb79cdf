"""Provider webhooks (S6): delivery receipts and inbound messages, authenticated per account.

Each account has its own URLs, so the right secret is known before the body is read. A
request that fails the provider's authenticity check gets 403 and changes nothing;
duplicate and out-of-order receipts are harmless (statuses only move forward).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .backends import Backend, WebhookRejected, get_backend
from .models import ChannelAccount, OutboundMessage
from .services.inbound import inbound_receive
from .services.status import message_apply_status
from .signals import webhook_rejected

logger = logging.getLogger(__name__)


def _verified(request: HttpRequest, account_id: int) -> tuple[ChannelAccount, Backend]:
    """The account the URL names and its backend, once the request proved it comes from the
    provider; raise WebhookRejected otherwise (404 for an unknown account)."""
    account = get_object_or_404(ChannelAccount, pk=account_id)
    backend = get_backend(account)
    backend.verify_webhook(request)
    return account, backend


@csrf_exempt
@require_POST
def status_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    """Apply delivery receipts to the send log."""
    try:
        account, backend = _verified(request, account_id)
    except WebhookRejected as exc:
        logger.warning("Rejected status webhook for account %s: %s", account_id, exc)
        webhook_rejected.send(sender=ChannelAccount, account_id=account_id, kind="status")
        return HttpResponseForbidden("signature check failed")
    for update in backend.parse_status_webhook(request):
        message = OutboundMessage.objects.filter(
            account=account, provider_message_id=update.provider_message_id
        ).first()
        if message is None and update.message_ref.isdigit():
            message = OutboundMessage.objects.filter(
                account=account, pk=int(update.message_ref)
            ).first()
        if message is None:
            logger.warning(
                "Receipt for unknown message %s on account %s",
                update.provider_message_id,
                account_id,
            )
            continue
        message_apply_status(
            message,
            update.status,
            source="webhook",
            provider_message_id=update.provider_message_id,
            provider_status=update.provider_status,
            code=update.code,
            description=update.description,
            payload=update.payload,
        )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    """Record inbound messages, act on keywords, send the auto-reply."""
    try:
        account, backend = _verified(request, account_id)
    except WebhookRejected as exc:
        logger.warning("Rejected inbound webhook for account %s: %s", account_id, exc)
        webhook_rejected.send(sender=ChannelAccount, account_id=account_id, kind="inbound")
        return HttpResponseForbidden("signature check failed")
    for inbound in backend.parse_inbound_webhook(request):
        inbound_receive(account=account, inbound=inbound)
    return backend.inbound_response()
