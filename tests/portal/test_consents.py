"""Consents given in the portal (P2, G6): one record per change, source "guest portal", the wording seen."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guests.models import ConsentRecord, ConsentWording, Guest
from guests.selectors import consent_current
from guests.services import guest_record_consent
from interfaces.portal.selectors import BUILTIN_WORDING_VERSION

pytestmark = pytest.mark.django_db


def _choose(client, **boxes: bool):
    return client.post(
        reverse("portal:consents"), {name: "on" for name, ticked in boxes.items() if ticked}
    )


def _records(guest: Guest) -> list[tuple[str, str, bool, str, str]]:
    return [
        (r.purpose, r.channel, r.granted, r.source, r.wording_version)
        for r in ConsentRecord.objects.filter(guest=guest).order_by("pk")
    ]


@pytest.fixture
def wordings(db) -> None:
    for language, text in [("en", "We may write to you."), ("de", "Wir dürfen Ihnen schreiben.")]:
        ConsentWording.objects.create(
            purpose="marketing", version="2026-03", language=language, text=text
        )
    ConsentWording.objects.create(
        purpose="data_processing", version="2026-01", language="en", text="We keep your data."
    )


def test_each_change_is_recorded_with_the_portal_source_and_the_wording_version(
    signed_in, guest, wordings
) -> None:
    response = _choose(signed_in, data_processing=True, marketing_email=True)
    assert response.status_code == 302
    assert _records(guest) == [
        ("data_processing", "", True, "guest_portal", "2026-01"),
        ("marketing", "email", True, "guest_portal", "2026-03"),
    ]


def test_the_page_shows_the_wording_in_the_guests_language(signed_in, guest, wordings) -> None:
    Guest.objects.filter(pk=guest.pk).update(language="de")
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert "Wir dürfen Ihnen schreiben." in page
    assert "We keep your data." in page  # no German version: the English one


def test_unchanged_boxes_write_nothing(signed_in, guest, wordings) -> None:
    _choose(signed_in, data_processing=True, marketing_sms=True)
    _choose(signed_in, data_processing=True, marketing_sms=True)
    assert len(_records(guest)) == 2
    _choose(signed_in)  # unticks both; e-mail was never given, so nothing to withdraw there
    assert _records(guest)[2:] == [
        ("data_processing", "", False, "guest_portal", "2026-01"),
        ("marketing", "sms", False, "guest_portal", "2026-03"),
    ]


def test_the_form_shows_the_current_state(signed_in, guest) -> None:
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )
    form = signed_in.get(reverse("portal:home")).context["consent_form"]
    assert form.initial["marketing_email"] is True
    assert form.initial["marketing_sms"] is False


def test_without_a_wording_in_the_database_the_portals_own_text_is_recorded(
    signed_in, guest
) -> None:
    _choose(signed_in, marketing_email=True)
    assert _records(guest) == [
        ("marketing", "email", True, "guest_portal", BUILTIN_WORDING_VERSION)
    ]
    assert consent_current(guest)[("marketing", "email")].note == "guest portal (en)"


def test_whatsapp_and_viber_are_offered_only_when_the_hotel_uses_them(signed_in, sending) -> None:
    form = signed_in.get(reverse("portal:home")).context["consent_form"]
    assert form.channels == ["email", "sms", "whatsapp", "viber"]
    sending["whatsapp"].is_active = False
    sending["whatsapp"].save()
    form = signed_in.get(reverse("portal:home")).context["consent_form"]
    assert form.channels == ["email", "sms", "viber"]
