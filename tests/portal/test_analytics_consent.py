"""The guest gives or refuses analytics consent (opens and clicks counted, E3) in the portal.

Through the portal's own consent form, like the other consents: one record per change, source
"guest portal", the wording version he saw, in his language; and the tracking honours it — a
guest who refused gets no pixel and no tracked links, one who gives it again does.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_out.backends import backend_class
from channels_out.models import MessagingPolicy, OutboundMessage
from channels_out.services import Step, message_send
from guests.models import ConsentPurpose, ConsentRecord, ConsentSource, ConsentWording, Guest
from guests.services import guest_record_consent
from interfaces.portal.selectors import BUILTIN_WORDING_VERSION
from tests.portal.conftest import emails_to

pytestmark = pytest.mark.django_db


def _choose(client, **boxes: bool):
    data = {name: "on" for name, ticked in boxes.items() if ticked}
    return client.post(reverse("portal:consents"), {**data, "analytics_asked": "True"})


def _analytics(guest: Guest) -> list[tuple[bool, str, str, str]]:
    return [
        (r.granted, r.source, r.wording_version, r.note)
        for r in ConsentRecord.objects.filter(
            guest=guest, purpose=ConsentPurpose.ANALYTICS
        ).order_by("pk")
    ]


def _offer(guest: Guest, deliver_queued) -> tuple[OutboundMessage, str]:
    message = message_send(
        steps=Step(
            channel="email",
            subject="Spring",
            text="See our offer.",
            html='<p>See <a href="https://offers.example.com/spring">our offer</a>.</p>',
        ),
        purpose=ConsentPurpose.MARKETING,
        guest=guest,
    )
    deliver_queued()
    message.refresh_from_db()
    # The e-mail as our SMTP backend writes it for this message (pixel and links if tracked).
    provided = emails_to(guest.email)[-1]
    email = backend_class("smtp")(provided.account).build_request(provided)
    return message, email.alternatives[0][0]


@pytest.fixture
def reachable(guest: Guest, settings) -> Guest:
    settings.PUBLIC_BASE_URL = "https://crm.lykiabay.example"
    MessagingPolicy.objects.update(frequency_cap_days=0)  # three offers in a row here
    Guest.objects.filter(pk=guest.pk).update(email="oliver@example.com")
    guest.refresh_from_db()
    guest_record_consent(
        guest=guest, purpose="marketing", channel="email", granted=True, source="staff"
    )
    return guest


def test_a_guest_refuses_and_gives_analytics_consent_and_the_tracking_follows(
    signed_in, reachable, deliver_queued
) -> None:
    ConsentWording.objects.create(
        purpose="analytics", version="2026-05", language="en", text="We count opens and clicks."
    )
    page = signed_in.get(reverse("portal:home"))
    assert "We count opens and clicks." in page.content.decode()
    assert 'name="analytics_asked" value="True"' in page.content.decode()  # what _choose sends
    assert page.context["consent_form"].initial["analytics"] is True  # counted until refused
    message, html = _offer(reachable, deliver_queued)
    assert message.tracked and "/t/o/" in html  # the rule before any statement: tracked

    # Ticked as it stands: no statement. Unticked: a refusal, with the wording seen.
    _choose(signed_in, marketing_email=True, analytics=True)
    assert _analytics(reachable) == []
    response = _choose(signed_in, marketing_email=True)
    assert response.status_code == 302
    assert _analytics(reachable) == [
        (False, ConsentSource.GUEST_PORTAL, "2026-05", "guest portal (en)")
    ]
    assert (
        signed_in.get(reverse("portal:home")).context["consent_form"].initial["analytics"] is False
    )
    message, html = _offer(reachable, deliver_queued)
    assert not message.tracked
    assert "/t/o/" not in html and "/t/c/" not in html
    assert "https://offers.example.com/spring" in html

    # He gives it again: tracked again.
    _choose(signed_in, marketing_email=True, analytics=True)
    assert [granted for granted, *_ in _analytics(reachable)] == [False, True]
    message, html = _offer(reachable, deliver_queued)
    assert message.tracked and "/t/o/" in html


def test_in_turkish_the_portal_asks_in_turkish_and_records_the_refusal(
    signed_in, reachable
) -> None:
    Guest.objects.filter(pk=reachable.pk).update(language="tr")
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert "tıkladığımı" in page and "açmalarım ve tıklamalarım izlenmez" in page
    _choose(signed_in, marketing_email=True)
    assert _analytics(reachable) == [
        (False, ConsentSource.GUEST_PORTAL, BUILTIN_WORDING_VERSION, "guest portal (tr)")
    ]
