"""A marketing WhatsApp step sends the approved template as written — we add no opt-out line
to it (channels_out.opt_out) — so the editor reminds staff, on saving, that the template must
carry its own (P3); a service campaign or a marketing SMS campaign gets no such note. The
admin's campaign form says the same, by the same rule (``plan_notes``)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.validation import plan_notes

from .test_admin import campaign_data, url
from .test_screens_support import editor_data, staff_user

pytestmark = pytest.mark.django_db

NOTE = "The WhatsApp step sends the approved template as written"


# (purpose, steps, whether the reminder shows): the same cases for the editor and the admin.
CASES = pytest.mark.parametrize(
    ("purpose", "steps", "noted"),
    [
        ("marketing", ("whatsapp",), True),
        ("marketing", ("sms", "whatsapp"), True),
        ("service", ("whatsapp",), False),
        ("marketing", ("sms",), False),
    ],
)


def _info_messages(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(answer.wsgi_request) if m.level_tag == "info"]


def _saved_notes(client: Client, **data) -> list[str]:
    client.force_login(staff_user("Marketing"))
    answer = client.post(reverse("campaigns:campaign-create"), editor_data(**data))
    assert answer.status_code == 302
    return _info_messages(answer)


@CASES
def test_the_editor_reminds_that_a_marketing_whatsapp_template_carries_its_own_opt_out(
    accounts, client: Client, purpose, steps, noted
) -> None:
    notes = _saved_notes(client, purpose=purpose, steps=steps)
    assert any(NOTE in note for note in notes) is noted
    campaign = Campaign.objects.get()
    assert bool(plan_notes(campaign)) is noted


def _admin_notes(admin_client: Client, *, purpose: str, steps: tuple[str, ...]) -> list[str]:
    data = campaign_data(
        purpose=purpose,
        steps=[{"channel": channel} for channel in steps],
        variants=[{"language": "en", "text": "Hello @NAME", "whatsapp_content_sid": "HX123"}],
    )
    answer = admin_client.post(url(Campaign, "add"), data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return _info_messages(answer)


@CASES
def test_the_admin_form_shows_the_editors_reminder_by_the_same_rule(
    accounts, admin_client: Client, client: Client, purpose, steps, noted
) -> None:
    shown = _admin_notes(admin_client, purpose=purpose, steps=steps)
    campaign = Campaign.objects.get()
    assert shown == plan_notes(campaign)
    assert any(NOTE in note for note in shown) is noted
    # Word for word what the staff editor shows for the same campaign.
    assert [n for n in _saved_notes(client, purpose=purpose, steps=steps) if NOTE in n] == [
        n for n in shown if NOTE in n
    ]
