"""A run signs the guest's own links (unsubscribe, portal) only for a message that shows them."""

from __future__ import annotations

import pytest

from campaigns.models import MessageVariant, Trigger
from campaigns.rendering import compile_variant
from channels_out.backends import locmem
from channels_out.models import OutboundMessage
from guests.services import reservation_check_in
from interfaces.portal import links
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "uses"),
    [
        ("Welcome @NAME", False),
        ("Opt out: @UNSUBSCRIBE", True),
        ("Your page: {{ links.portal }}", True),
        ("{% if guest.first_name %}Hi{% endif %}", False),
    ],
)
def test_a_compiled_message_knows_whether_it_shows_the_guests_links(text: str, uses: bool) -> None:
    assert compile_variant(MessageVariant(language="en", text=text)).uses_links is uses


def test_a_message_that_shows_the_unsubscribe_link_carries_the_guests_own(
    make_campaign, top_up, hotel, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    make_campaign(trigger=Trigger.CHECK_IN, texts={"en": "Welcome. Opt out: @UNSUBSCRIBE"})
    guest = GuestFactory(language="en")
    reservation = ReservationFactory(booker=guest, arrival=hotel.business_date)
    with django_capture_on_commit_callbacks(execute=True):
        reservation_check_in(reservation=reservation)
    message = OutboundMessage.objects.get(reservation=reservation)
    url = links.unsubscribe_url(guest, "sms")
    [sent] = locmem.outbox  # what the guest gets
    assert sent.body == f"Welcome. Opt out: {url}"
    assert links.unsubscribe_secret(guest, "sms") not in message.body  # the log masks the token
