"""The demo hotel's campaigns (``manage.py seed_demo_campaigns``, run by ``make run``).

A handful of active campaigns made from the standard templates through the gallery service,
as marketing staff would make them in the editor: the welcome SMS at check-in to each guest
of the stay with a phone of his own, companions included (so the README's first check-in
sends one), the pre-arrival e-mail three days before, a mid-stay SMS to every adult on the
second day, the check-out eve SMS at 18:00, birthday wishes, the post-stay survey and an
operator campaign sent by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from crm_messaging.actors import Actor
from guests import demo

from .gallery import gallery_campaign_create
from .models import Campaign, Recipients

__all__ = ["DEMO_CAMPAIGNS", "DemoCampaign", "demo_campaigns_create"]


@dataclass(frozen=True)
class DemoCampaign:
    key: str  # the gallery template
    name: str
    channels: tuple[str, ...]
    fields: Mapping[str, Any] = field(default_factory=dict)  # set besides the template's


DEMO_CAMPAIGNS = (
    DemoCampaign(
        "welcome",
        "Welcome SMS at check-in",
        ("sms",),
        {"recipients": Recipients.OWN_CONTACT},
    ),
    DemoCampaign("pre_arrival", "Pre-arrival e-mail, 3 days before", ("email",)),
    DemoCampaign(
        "mid_stay", "Mid-stay SMS, second day", ("sms",), {"recipients": Recipients.ADULTS}
    ),
    DemoCampaign(
        "check_out_eve", "Check-out eve SMS at 18:00", ("sms",), {"send_time": dt.time(18, 0)}
    ),
    DemoCampaign("birthday", "Birthday wishes", ("email",)),
    DemoCampaign("post_stay_survey", "Post-stay survey", ("email",)),
    DemoCampaign("come_back", "Come back: direct-booking offer", ("sms",)),
)


def demo_campaigns_create(*, user: Actor = None) -> list[Campaign]:
    """Create the demo campaigns that are missing (by name); return those created.

    Raise guests.demo.DemoError when the database holds another hotel's guests: the demo's
    campaigns would message real people.
    """
    with transaction.atomic():
        if demo.demo_state() == "other":
            raise demo.DemoError(demo.OTHER_DATA_MESSAGE)
        existing = set(
            Campaign.objects.filter(name__in=[c.name for c in DEMO_CAMPAIGNS]).values_list(
                "name", flat=True
            )
        )
        return [
            gallery_campaign_create(
                key=wanted.key,
                channels=wanted.channels,
                name=wanted.name,
                fields=wanted.fields,
                user=user,
            )
            for wanted in DEMO_CAMPAIGNS
            if wanted.name not in existing
        ]
