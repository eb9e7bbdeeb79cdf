"""A campaign's per-guest unsubscribe link is a key: the guest gets it, the send log masks it."""

from __future__ import annotations

import pytest

from campaigns.models import Source, Trigger
from campaigns.services import campaign_send
from channels_out.backends import locmem
from channels_out.dispatch import deliver
from channels_out.models import OutboundMessage
from channels_out.text import MASK
from interfaces.portal.tokens import unsubscribe_token
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def test_the_unsubscribe_link_goes_to_the_guest_and_is_masked_in_the_log(
    make_campaign, top_up, django_user_model, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    campaign = make_campaign(
        trigger=Trigger.OPERATOR,
        source=Source.GUESTS,
        texts={"en": "Hello @NAME. Stop: @UNSUBSCRIBE"},
    )
    guest = GuestFactory(language="en", phone="+905321110001")
    staff = django_user_model.objects.create_user("marketing", password="x")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=campaign, user=staff)
    message = OutboundMessage.objects.get(guest=guest)
    token = unsubscribe_token(guest.pk, "sms")
    assert token not in message.body
    assert f"/guest/unsubscribe/{MASK}/" in message.body
    deliver([message.pk])
    assert any(token in sent.body for sent in locmem.outbox)
