"""The live counter under every message box (front desk, campaign editor): an htmx fragment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from channels_out.meter import message_meter
from channels_out.models import ChannelAccount
from crm_messaging.numbers import whole_number
from guests.models import ConsentPurpose, ContactChannel, Guest

# Who writes messages, and so may see their cost against the credit balance.
MESSAGING_PERMISSIONS = (
    "channels_out.send_one_off",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
)


@login_required
@require_POST
def meter(request: HttpRequest) -> HttpResponse:
    """htmx: the live counter fragment for the text being typed (POST text, channel, to or
    guest; from a campaign editor ``shorten_links`` when it shortens its SMS links, its
    ``purpose``, the ``language`` of the box and the ``account`` of the step of ``channel``,
    so a marketing SMS, Viber message or WhatsApp free text is counted with the opt-out hint
    it goes with).

    It shows the credit balance: only to users who write messages (``MESSAGING_PERMISSIONS``).
    """
    if not any(request.user.has_perm(name) for name in MESSAGING_PERMISSIONS):
        raise PermissionDenied(gettext("Only staff who write messages see the counter."))
    channel = request.POST.get("channel", ContactChannel.SMS)
    if channel not in ContactChannel.values:
        channel = ContactChannel.SMS
    to = request.POST.get("to", "")
    guest_id = whole_number(request.POST.get("guest"))
    if not to and guest_id is not None:
        to = Guest.objects.filter(pk=guest_id).values_list("phone", flat=True).first() or ""
    purpose = request.POST.get("purpose", "")
    account_id = whole_number(request.POST.get("account"))
    account = (
        ChannelAccount.objects.filter(pk=account_id, channel=channel).first()
        if account_id is not None
        else None
    )
    return render(
        request,
        "channels_out/_meter.html",
        message_meter(
            text=request.POST.get("text", ""),
            channel=channel,
            to=to,
            shorten_links=request.POST.get("shorten_links") in ("on", "true", "1"),
            purpose=purpose if purpose in ConsentPurpose.values else "",
            language=request.POST.get("language", "")[:8],
            account=account,
        ),
    )
