"""What each event says (I2): the ``data`` of every event type, built from the rows of its cause.

Only what a staff member may see goes out: a message's stored text has its login codes,
sign-in and confirmation links already masked (``channels_out.text``); the full text a
provider received (``sealed``) is never read here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from campaigns.models import CampaignRun
from channels_out.models import InboundMessage, OutboundMessage
from guests.models import ConsentRecord


def iso(value: dt.datetime | None) -> str | None:
    """A timestamp as ISO 8601 in UTC with a ``Z`` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def amount(value: Decimal | None) -> str | None:
    """Credits as a decimal string (never a float)."""
    return None if value is None else str(value)


def message_data(message: OutboundMessage, *, previous_status: str) -> dict[str, Any]:
    return {
        "message": {
            "id": message.pk,
            "status": message.status,
            "previous_status": previous_status,
            "channel": message.channel,
            "purpose": message.purpose,
            "to": message.to,
            "guest_id": message.guest_id,
            "reservation_id": message.reservation_id,
            "subject": message.subject,
            "body": message.body,  # the stored text: secrets masked
            "reason": message.reason,
            "provider_code": message.provider_code,
            "provider_message_id": message.provider_message_id,
            "credits": amount(message.credits),
            "created_at": iso(message.created_at),
            "sent_at": iso(message.sent_at),
            "delivered_at": iso(message.delivered_at),
        }
    }


def inbound_data(inbound: InboundMessage) -> dict[str, Any]:
    return {
        "inbound": {
            "id": inbound.pk,
            "channel": inbound.channel,
            "from": inbound.from_number,
            "guest_id": inbound.guest_id,
            "body": inbound.body,
            "keyword": inbound.keyword,
            "received_at": iso(inbound.received_at),
        }
    }


def consent_data(record: ConsentRecord) -> dict[str, Any]:
    return {
        "consent": {
            "id": record.pk,
            "guest_id": record.guest_id,
            "purpose": record.purpose,
            "channel": record.channel,
            "granted": record.granted,
            "source": record.source,
            "wording_version": record.wording_version,
            "recorded_at": iso(record.recorded_at),
        }
    }


def campaign_run_data(run: CampaignRun) -> dict[str, Any]:
    return {
        "campaign_run": {
            "id": run.pk,
            "campaign_id": run.campaign_id,
            "campaign": run.campaign.name,
            "trigger": run.trigger,
            "occurrence": run.occurrence,
            "state": run.state,
            "audience_size": run.audience_size,
            "render_failures": sum(int(n) for n in (run.render_failures or {}).values()),
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
        }
    }


def credits_low_data(*, available: Decimal, threshold: Decimal, at: dt.datetime) -> dict[str, Any]:
    return {
        "credits": {"available": amount(available), "threshold": amount(threshold), "at": iso(at)}
    }
