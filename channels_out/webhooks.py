"""Provider webhooks (S6): delivery receipts and inbound messages, authenticated per account.

Each account has its own URLs, so the right secret is known before the body is read. A
request that fails the provider's authenticity check gets 403 and changes nothing;
duplicate and out-of-order receipts are harmless (statuses only move forward). What a
verified request says is made storable once (``text.storable``: a NUL dropped, a lone
surrogate replaced) before anything of it is written, so such a message is kept, not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.core import signing
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from crm_messaging.numbers import whole_number

from . import tracking
from .backends import Backend, StatusUpdate, WebhookRejected, get_backend
from .models import ChannelAccount, EngagementKind, OutboundMessage, ShortLink
from .services.email_replies import email_reply_receive
from .services.inbound import inbound_receive
from .services.status import message_apply_status
from .services.tracking import message_engage, message_track
from .signals import webhook_rejected
from .text import storable

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _verified(request: HttpRequest, account_id: int) -> tuple[ChannelAccount, Backend]:
    """The account the URL names and its backend, once the request proved it comes from the
    provider; raise WebhookRejected otherwise (404 for an unknown account)."""
    account = get_object_or_404(ChannelAccount, pk=account_id)
    backend = get_backend(account)
    backend.verify_webhook(request)
    return account, backend


def _message_for(account: ChannelAccount, update: StatusUpdate) -> OutboundMessage | None:
    """The message a receipt is about: by the provider's id, else by our id when it echoes it."""
    message = None
    if update.provider_message_id:
        message = OutboundMessage.objects.filter(
            account=account, provider_message_id=update.provider_message_id
        ).first()
    if message is None and (ref := whole_number(update.message_ref)) is not None:
        message = OutboundMessage.objects.filter(account=account, pk=ref).first()
    return message


def _received(
    request: HttpRequest, account_id: int, kind: str, read: Callable[[Backend], T]
) -> tuple[ChannelAccount, Backend, T] | HttpResponse:
    """What a provider's callback says (``read`` from its backend), once it proved it comes
    from the provider, made storable (``text.storable``): 403 when it did not (and
    ``webhook_rejected``), 400 when it is signed but unreadable — nothing changes either way."""
    try:
        account, backend = _verified(request, account_id)
    except WebhookRejected as exc:
        logger.warning("Rejected %s webhook for account %s: %s", kind, account_id, exc)
        webhook_rejected.send(sender=ChannelAccount, account_id=account_id, kind=kind)
        return HttpResponseForbidden("signature check failed")
    try:
        return account, backend, storable(read(backend))
    except WebhookRejected as exc:  # signed, but a body the provider's parser cannot read
        logger.warning("Unreadable %s webhook for account %s: %s", kind, account_id, exc)
        return HttpResponseBadRequest("unreadable webhook")


@csrf_exempt
@require_POST
def status_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    """Apply delivery receipts to the send log."""
    received = _received(request, account_id, "status", lambda b: b.parse_status_webhook(request))
    if isinstance(received, HttpResponse):
        return received
    account, _backend, updates = received
    for update in updates:
        message = _message_for(account, update)
        if message is None:
            logger.warning(
                "Receipt for unknown message %s on account %s",
                update.provider_message_id,
                account_id,
            )
            continue
        if update.event:
            message_track(message=message, update=update)
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
    received = _received(
        request,
        account_id,
        "inbound",
        lambda b: (b.parse_inbound_webhook(request), b.parse_inbound_emails(request)),
    )
    if isinstance(received, HttpResponse):
        return received
    account, backend, (messages, emails) = received
    for inbound in messages:
        inbound_receive(account=account, inbound=inbound)
    for mail in emails:
        email_reply_receive(mail=mail, account=account)
    return backend.inbound_response()


# --- our own engagement tracking (E3): the open pixel and the signed click redirect ------------

# A transparent 1×1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@require_safe
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    """Serve the pixel; a GET with a valid token counts as an open (a HEAD, or a changed token, does not)."""
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, private"
    if request.method != "GET":
        return response
    try:
        message_id = tracking.read_open_token(token)
    except signing.BadSignature:
        return response
    message = OutboundMessage.objects.filter(pk=message_id, tracked=True).first()
    if message is not None:
        message_engage(
            message=message,
            kind=EngagementKind.OPEN,
            source="ours",
            user_agent=request.headers.get("User-Agent", ""),
        )
    return response


@require_safe
def track_click(request: HttpRequest, token: str) -> HttpResponse:
    """Redirect to the link the message carried — only that one — and count a GET as a click.

    A token that was changed or that names no trackable link is refused (400), never followed.
    """
    try:
        message_id, url = tracking.read_click_token(token)
    except signing.BadSignature:
        return HttpResponseBadRequest("This link is not valid.", content_type="text/plain")
    if request.method == "GET":
        message = OutboundMessage.objects.filter(pk=message_id, tracked=True).first()
        if message is not None:
            _click(request, message, url, source="ours")
    return _onward(url)


@require_safe
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """An SMS's short link: redirect to the URL stored for its code — only that one — and
    count a GET as a click of its message, as an e-mail's click is counted.

    A code of the wrong form, or one that was never made, is 404 (never looked up, never 500).
    """
    if not tracking.is_short_code(code):
        raise Http404("No such link.")
    link = ShortLink.objects.select_related("message").filter(code=code).first()
    if link is None:
        raise Http404("No such link.")
    if request.method == "GET":
        _click(request, link.message, link.url, source="short")
    return _onward(link.url)


def _click(request: HttpRequest, message: OutboundMessage, url: str, *, source: str) -> None:
    message_engage(
        message=message,
        kind=EngagementKind.CLICK,
        source=source,
        url=url,
        user_agent=request.headers.get("User-Agent", ""),
    )


def _onward(url: str) -> HttpResponse:
    """The redirect of a tracked link: never cached, and the guest's link not passed on."""
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response
