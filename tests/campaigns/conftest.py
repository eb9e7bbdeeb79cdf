"""Campaign fixtures: a campaign builder over in-memory accounts; a marketing member signed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from campaigns.models import Campaign, CampaignStep, MessageVariant

from .test_screens_support import staff_user


@pytest.fixture
def make_campaign(db: None, accounts) -> Callable[..., Campaign]:
    """Build a saved campaign: ``make_campaign(trigger=…, steps=["sms"], texts={"en": "Hi @NAME"}, **fields)``."""

    def make(
        *,
        steps: tuple[str, ...] | list[str] = ("sms",),
        texts: dict[str, str] | None = None,
        subjects: dict[str, str] | None = None,
        **fields: Any,
    ) -> Campaign:
        fields.setdefault("name", "Test campaign")
        campaign = Campaign.objects.create(**fields)
        for position, channel in enumerate(steps):
            CampaignStep.objects.create(campaign=campaign, position=position, channel=channel)
        for language, text in (texts or {"en": "Hello @NAME"}).items():
            MessageVariant.objects.create(
                campaign=campaign,
                language=language,
                text=text,
                subject=(subjects or {}).get(language, "Hello"),
                html=f"<p>{text}</p>",
            )
        return campaign

    return make


@pytest.fixture
def marketing(client):  # type: ignore[no-untyped-def]
    """A member of the Marketing role, signed in on ``client``."""
    user = staff_user("Marketing")
    client.force_login(user)
    return user
