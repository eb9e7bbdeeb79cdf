"""Staff screens of the sender layer (send log, credits) and the shared live message counter."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from crm_messaging.guests.models import ContactChannel, Guest
from crm_messaging.phones import InvalidPhone, phone_info

from .pricing import PriceTable
from .segments import count_segments
from .selectors import credit_balance


def message_meter(
    *, text: str, channel: str, to: str = "", recipients: int = 1
) -> dict[str, object]:
    """What staff see under a message box: length, encoding, parts, the characters forcing
    UCS-2, and the cost against the balance (S4, S8, C11)."""
    info = count_segments(text)
    country = ""
    if to:
        try:
            country = phone_info(to).region or ""
        except InvalidPhone:
            country = ""
    parts = info.parts if channel == ContactChannel.SMS else (1 if text.strip() else 0)
    cost = PriceTable().cost(channel, country, parts) * recipients if parts else Decimal(0)
    balance = credit_balance()
    return {
        "characters": len(text),
        "info": info,
        "channel": channel,
        "is_sms": channel == ContactChannel.SMS,
        "parts": parts,
        "cost": cost,
        "balance": balance,
        "short": cost > balance.available,
        "country": country,
    }


@login_required
@require_POST
def meter(request: HttpRequest) -> HttpResponse:
    """htmx: the live counter fragment for the text being typed (POST text, channel, to or guest)."""
    channel = request.POST.get("channel", ContactChannel.SMS)
    if channel not in ContactChannel.values:
        channel = ContactChannel.SMS
    to = request.POST.get("to", "")
    guest_id = request.POST.get("guest", "")
    if not to and guest_id.isdigit():
        to = Guest.objects.filter(pk=int(guest_id)).values_list("phone", flat=True).first() or ""
    return render(
        request,
        "channels_out/_meter.html",
        message_meter(text=request.POST.get("text", ""), channel=channel, to=to),
    )
