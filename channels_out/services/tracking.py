"""What an e-mail provider's tracking event, our pixel or our redirect means (E1–E3).

``message_track`` applies one ESP event to its message: a status (delivered, bounced …)
through the status service like any receipt; every event is kept as a delivery event; a hard
bounce suppresses the address, a soft one counts towards a run; a delivery ends the run; a
complaint opts the guest out of marketing e-mail at once (a consent record with source
*complaint*); an unsubscribe at the ESP does the same (source *provider_unsub*); opens and
clicks are engagements. ``message_engage`` records one open or click — of an e-mail (pixel,
redirect, ESP) or of an SMS's short link — human or not: a known scanner's or link
previewer's user agent, or a fetch within seconds of delivery (a mail scanner or a carrier's
filter opening every link before the guest sees the message), is kept but not counted.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from guests.models import ConsentPurpose, ConsentSource, ContactChannel
from guests.services import guest_record_consent

from ..backends import StatusUpdate
from ..models import (
    Engagement,
    EngagementKind,
    OutboundMessage,
    SuppressionReason,
)
from .messages import delivery_event_record
from .status import message_apply_status
from .suppression import soft_bounce_record, soft_bounces_reset, suppression_add

# User agents of mail scanners and link checkers that fetch every link and image of a message,
# and of the link previews a phone's messaging app draws for a link in an SMS (iMessage
# fetches as facebookexternalhit/Twitterbot) — matched case-insensitively anywhere in the header.
SCANNER_AGENTS = re.compile(
    r"barracuda|mimecast|proofpoint|urldefense|safelinks|microsoft office protection|"
    r"bingpreview|trend ?micro|symantec|messagelabs|forcepoint|sophos|spamtitan|zscaler|"
    r"fireeye|cisco|ironport|checkpoint|fortinet|hornetsecurity|avanan|abnormal|"
    r"headlesschrome|python-requests|python-urllib|curl/|wget/|go-http-client|"
    r"facebookexternalhit|facebot|twitterbot|whatsapp|telegrambot|slackbot|discordbot|"
    r"\bbot\b|crawler|spider|scanner|preview",
    re.IGNORECASE,
)
_REJECTION_SUPPRESSES = frozenset({"bounced", "invalid"})


def is_scanner(*, message: OutboundMessage, user_agent: str, at: dt.datetime) -> bool:
    """Whether an open or click looks like a machine: a known scanner's user agent, no user
    agent at all, or a fetch within ``SCANNER_PREFETCH_SECONDS`` of delivery (or sending,
    for mail without delivery receipts)."""
    if not user_agent.strip() or SCANNER_AGENTS.search(user_agent):
        return True
    arrived = message.delivered_at or message.sent_at
    window = dt.timedelta(seconds=settings.SCANNER_PREFETCH_SECONDS)
    return arrived is not None and dt.timedelta(0) <= at - arrived < window


@transaction.atomic
def message_engage(
    *,
    message: OutboundMessage,
    kind: str,
    source: str,
    url: str = "",
    user_agent: str = "",
    at: dt.datetime | None = None,
) -> Engagement:
    """Record an open or a click of ``message``; the first human one of each kind is stamped
    on the message (a click counts as an open too: the guest read it)."""
    at = at or timezone.now()
    human = not is_scanner(message=message, user_agent=user_agent, at=at)
    engagement = Engagement.objects.create(
        message=message,
        kind=kind,
        url=url[:2000],
        human=human,
        source=source[:10],
        user_agent=user_agent[:255],
        at=at,
    )
    if human:
        OutboundMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(opened_at=at)
        if kind == EngagementKind.CLICK:
            OutboundMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
                clicked_at=at
            )
    return engagement


def _opt_out(message: OutboundMessage, *, source: str, note: str) -> None:
    if message.guest_id is None:
        return
    assert message.guest is not None
    guest_record_consent(
        guest=message.guest,
        purpose=ConsentPurpose.MARKETING,
        channel=ContactChannel.EMAIL,
        granted=False,
        source=source,
        note=note,
    )


@transaction.atomic
def message_track(*, message: OutboundMessage, update: StatusUpdate) -> None:
    """Apply one e-mail provider event to ``message`` (see the module doc)."""
    event = update.event
    if update.status:
        message_apply_status(
            message,
            update.status,
            source="webhook",
            provider_status=update.provider_status,
            code=update.code,
            description=update.description,
            payload=update.payload,
        )
    else:
        delivery_event_record(
            message,
            message.status,
            source="webhook",
            provider_status=update.provider_status,
            code=update.code,
            description=update.description or event,
            payload=update.payload,
            applied=False,
        )
    if update.bounce == "hard":
        suppression_add(
            address=message.to,
            reason=SuppressionReason.HARD_BOUNCE,
            provider_code=update.code,
            description=update.description,
            message=message,
        )
    elif update.bounce == "soft":
        soft_bounce_record(message=message, code=update.code, description=update.description)
    elif event == "rejected" and update.payload.get("reject_reason") in _REJECTION_SUPPRESSES:
        suppression_add(
            address=message.to,
            reason=SuppressionReason.REJECTED,
            provider_code=update.code,
            description=update.description,
            message=message,
        )
    elif event in ("delivered", "opened", "clicked"):
        soft_bounces_reset(address=message.to)
    if event in ("opened", "clicked"):
        message.refresh_from_db(fields=["delivered_at", "sent_at"])
        message_engage(
            message=message,
            kind=EngagementKind.OPEN if event == "opened" else EngagementKind.CLICK,
            source="esp",
            url=update.url,
            user_agent=update.user_agent,
            at=update.at,
        )
    elif event == "complained":
        updated = OutboundMessage.objects.filter(pk=message.pk, complained_at__isnull=True).update(
            complained_at=update.at or timezone.now()
        )
        if updated:
            _opt_out(
                message,
                source=ConsentSource.COMPLAINT,
                note=f"spam complaint on message #{message.pk}",
            )
    elif event == "unsubscribed":
        _opt_out(
            message,
            source=ConsentSource.PROVIDER_UNSUBSCRIBE,
            note=f"unsubscribed at the provider from message #{message.pk}",
        )
