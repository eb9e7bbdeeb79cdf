"""The front desk's send form (S7) refuses a number that cannot take messages in the staff
member's language, the words the send log uses for such a number."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out.models import OutboundMessage
from guests.models import Reservation
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db
NONCE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def stay(hotel) -> Reservation:
    booker = GuestFactory(first_name="Ayşe", phone="+905321234567")
    return ReservationFactory(booker=booker, arrival=hotel.business_date)


@pytest.mark.parametrize(
    ("language", "to", "error"),
    [
        ("tr", "+90 212 234 56 78", "+902122345678 bir sabit hat numarası; mesaj alamaz."),
        ("en", "+90 212 234 56 78", "+902122345678 is a landline number and cannot take messages."),
        ("tr", "+90 12", "“+90 12” geçerli bir telefon numarası değil: çok kısa."),
        ("en", "+90 12", "“+90 12” is not a valid phone number: it is too short."),
    ],
)
def test_a_number_that_cannot_take_messages_is_refused_in_the_staff_members_language(
    client, django_user_model, stay, accounts, language, to, error
) -> None:
    sync_roles()
    user = django_user_model.objects.create_user("desk")
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    client.cookies["django_language"] = language
    data = {
        "recipient": stay.booker_id,
        "channel": "sms",
        "to": to,
        "text": "Your room is ready.",
        "nonce": NONCE,
    }
    response = client.post(reverse("guests:reservation-send", args=[stay.pk]), data)
    assert response.context["send_form"].errors["to"] == [error]
    assert not OutboundMessage.objects.exists()
