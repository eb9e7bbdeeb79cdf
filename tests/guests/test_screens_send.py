"""A one-off message from a reservation or guest page (S4): prefilled with the guest's number,
offered only on channels the hotel has, refused next to the field when the input is wrong,
sent once however often the form is submitted, and kept in the history shown beside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_out.backends import locmem
from channels_out.models import OutboundMessage, Status
from channels_out.services import Step, message_send
from guests.models import (
    ConsentPurpose,
    ConsentSource,
    Reservation,
    ReservationCompanion,
)
from guests.services import guest_record_consent
from interfaces.staff.roles import sync_roles
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db

NONCE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    def as_role(role: str | None) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user(
            (role or "nobody").lower().replace(" ", ""), first_name=role or ""
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def stay(hotel) -> Reservation:
    booker = GuestFactory(
        first_name="Ayşe", last_name="Yılmaz", phone="+905321234567", email="ayse@example.com"
    )
    return ReservationFactory(booker=booker, arrival=hotel.business_date)


def send_url(reservation: Reservation) -> str:
    return reverse("guests:reservation-send", args=[reservation.pk])


def page_url(reservation: Reservation) -> str:
    return reverse("guests:reservation-detail", args=[reservation.pk])


def sms(stay: Reservation, **overrides: str) -> dict[str, Any]:
    data = {
        "recipient": stay.booker_id,
        "channel": "sms",
        "to": "+90 532 123 45 67",
        "text": "Your room is ready.",
        "nonce": NONCE,
    }
    data.update(overrides)
    return data


def test_the_form_is_prefilled_with_the_bookers_number_and_sms(client, login, stay) -> None:
    login("Front desk")
    response = client.get(page_url(stay))
    form = response.context["send_form"]
    assert form.initial["recipient"] == stay.booker_id
    assert form.initial["channel"] == "sms"
    assert form.initial["to"] == "+90 532 123 45 67"
    html = response.content.decode()
    assert 'hx-post="/messages/meter/"' in html and 'id="meter"' in html
    assert 'name="subject"' not in html


def test_only_channels_with_an_active_account_are_offered(client, login, stay, accounts) -> None:
    login("Front desk")
    accounts["viber"].is_active = False
    accounts["viber"].save()
    offered = [
        value
        for value, _ in client.get(page_url(stay)).context["send_form"].fields["channel"].choices
    ]
    assert offered == ["sms", "whatsapp", "email"]


def test_sms_is_offered_even_without_accounts_and_refused_next_to_the_channel(
    client, login, stay
) -> None:
    login("Front desk")
    response = client.post(send_url(stay), sms(stay))
    assert response.status_code == 200
    assert response.context["send_form"].errors["channel"] == ["No active SMS account is set up."]
    assert 'id="id_channel_error"' in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_sending_queues_one_front_desk_message_about_the_stay_by_the_user(
    client, login, stay, accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    user = login("Front desk")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(stay), sms(stay), follow=True)
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.body) == (
        "sms",
        "+905321234567",
        "Your room is ready.",
    )
    assert (message.guest, message.reservation, message.sent_by) == (stay.booker, stay, user)
    assert (message.source, message.dedupe_key) == ("front_desk", f"front_desk:{NONCE}")
    assert [m.body for m in locmem.outbox] == ["Your room is ready."]
    assert response.redirect_chain[-1][0].endswith("#messages")
    assert "SMS to +905321234567 is on its way · 1 credit." in [
        str(m) for m in response.context["messages"]
    ]
    assert "Your room is ready." in response.content.decode()


def test_an_invalid_number_is_refused_next_to_the_field_and_nothing_is_sent(
    client, login, stay, accounts, top_up
) -> None:
    top_up(10)
    login("Front desk")
    response = client.post(send_url(stay), sms(stay, to="+90 532 12"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_to_error"' in html and "is not a valid phone number: it is too short" in html
    assert 'aria-invalid="true"' in html
    assert response.context["send_form"].data["text"] == "Your room is ready."
    assert not OutboundMessage.objects.exists()
    assert locmem.outbox == []


def test_a_landline_cannot_take_an_sms(client, login, stay, accounts, top_up) -> None:
    top_up(10)
    login("Front desk")
    response = client.post(send_url(stay), sms(stay, to="+90 212 123 45 67"))
    assert response.context["send_form"].errors["to"] == [
        "+902121234567 is a landline number and cannot take messages."
    ]
    assert not OutboundMessage.objects.exists()


def test_an_empty_text_is_refused_next_to_the_field(client, login, stay, accounts) -> None:
    login("Front desk")
    response = client.post(send_url(stay), sms(stay, text="   "))
    assert response.context["send_form"].errors["text"] == ["Write the message."]
    assert not OutboundMessage.objects.exists()


def test_a_double_submit_with_the_same_nonce_sends_one_message(
    client, login, stay, accounts, top_up, django_capture_on_commit_callbacks
) -> None:
    top_up(10)
    login("Front desk")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(send_url(stay), sms(stay))
        again = client.post(send_url(stay), sms(stay), follow=True)
    assert OutboundMessage.objects.count() == 1
    assert len(locmem.outbox) == 1
    assert any("already sent" in str(m) for m in again.context["messages"])


def test_a_tampered_nonce_is_refused(client, login, stay, accounts) -> None:
    login("Front desk")
    response = client.post(send_url(stay), sms(stay, nonce="campaign:1"))
    assert "This form has expired" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_each_rendering_of_the_form_gets_a_fresh_nonce(client, login, stay) -> None:
    login("Front desk")
    first = client.get(page_url(stay)).context["send_form"].initial["nonce"]
    second = client.get(page_url(stay)).context["send_form"].initial["nonce"]
    assert first != second and len(first) == 32


def test_a_skipped_message_is_reported_with_its_reason(
    client, login, stay, accounts, top_up
) -> None:
    top_up(10)
    login("Front desk")
    guest_record_consent(
        guest=stay.booker,
        purpose=ConsentPurpose.SERVICE,
        channel="sms",
        granted=False,
        source=ConsentSource.STAFF,
    )
    response = client.post(send_url(stay), sms(stay), follow=True)
    message = OutboundMessage.objects.get()
    assert message.status == Status.SKIPPED
    [note] = [str(m) for m in response.context["messages"]]
    assert note == "The SMS message was not sent — Opted out."
    assert locmem.outbox == []


def test_an_e_mail_needs_a_subject_next_to_its_field(client, login, stay, accounts) -> None:
    login("Front desk")
    data = sms(stay, channel="email", to="ayse@example.com", subject="")
    response = client.post(send_url(stay), data)
    assert response.context["send_form"].errors["subject"] == ["An e-mail needs a subject."]
    assert 'name="subject"' in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_a_control_character_is_refused_next_to_its_field_and_nothing_is_sent(
    client, login, stay, accounts
) -> None:
    """A vertical tab pasted into a subject, an escape sequence into a text (R4)."""
    login("Front desk")
    data = sms(stay, channel="email", to="ayse@example.com", subject="Your\x0bstay")
    errors = client.post(send_url(stay), data).context["send_form"].errors
    assert "cannot be sent (U+000B)" in errors["subject"][0]
    errors = client.post(send_url(stay), sms(stay, text="Hi\x1b[1m")).context["send_form"].errors
    assert "cannot be sent (U+001B)" in errors["text"][0]
    assert not OutboundMessage.objects.exists()


def test_an_e_mail_goes_with_its_subject(client, login, stay, accounts) -> None:
    login("Front desk")
    client.post(
        send_url(stay), sms(stay, channel="email", to="ayse@example.com", subject="Your stay")
    )
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.subject) == (
        "email",
        "ayse@example.com",
        "Your stay",
    )


def test_a_companion_can_be_chosen_and_the_form_redraws_with_his_number(
    client, login, stay, accounts
) -> None:
    login("Front desk")
    companion = GuestFactory(first_name="Mehmet", phone="+905339876543", email="mehmet@example.com")
    ReservationCompanion.objects.create(reservation=stay, guest=companion)
    form_url = reverse("guests:reservation-send-form", args=[stay.pk])
    response = client.get(
        form_url,
        {
            "recipient": companion.pk,
            "channel": "sms",
            "to": "+90 532 123 45 67",
            "text": "Привет",
            "nonce": NONCE,
            "changed": "recipient",
        },
    )
    form = response.context["send_form"]
    assert (form.initial["to"], form.initial["text"], form.initial["nonce"]) == (
        "+90 533 987 65 43",
        "Привет",
        NONCE,
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="send-form"')
    assert "UCS-2" in html  # the meter counts what was already typed
    email = client.get(
        form_url,
        {
            "recipient": companion.pk,
            "channel": "email",
            "to": "+90 533 987 65 43",
            "changed": "channel",
            "nonce": NONCE,
        },
    )
    assert email.context["send_form"].initial["to"] == "mehmet@example.com"
    assert 'name="subject"' in email.content.decode()


def test_only_the_stays_guests_can_be_chosen(client, login, stay, accounts) -> None:
    login("Front desk")
    stranger = GuestFactory()
    response = client.post(send_url(stay), sms(stay, recipient=str(stranger.pk)))
    assert "recipient" in response.context["send_form"].errors
    assert not OutboundMessage.objects.exists()


def test_sending_needs_the_send_permission(client, login, stay, accounts) -> None:
    login("Operator")
    assert client.post(send_url(stay), sms(stay)).status_code == 403
    assert client.get(reverse("guests:reservation-send-form", args=[stay.pk])).status_code == 403
    assert not OutboundMessage.objects.exists()


def test_the_history_shows_the_stays_messages_newest_first_with_more(
    client, login, stay, accounts, top_up
) -> None:
    top_up(100)
    login("Front desk")
    other = GuestFactory()
    for n in range(12):
        message_send(
            steps=Step(channel="sms", text=f"note {n}"), guest=stay.booker, reservation=stay
        )
    message_send(steps=Step(channel="sms", text="not about this stay"), guest=other)
    history = reverse("guests:reservation-messages", args=[stay.pk])
    first = client.get(history)
    assert [m.body for m in first.context["history"]] == [f"note {n}" for n in range(11, 1, -1)]
    html = first.content.decode()
    assert 'hx-trigger="every 5s"' in html and "Show more" in html
    more = client.get(history, {"more": "20"})
    assert len(more.context["history"]) == 12 and "Show more" not in more.content.decode()


def test_the_guest_page_sends_to_that_guest_without_a_reservation(
    client, login, stay, accounts, top_up
) -> None:
    top_up(10)
    login("Front desk")
    guest = stay.booker
    page = client.get(reverse("guests:guest-detail", args=[guest.pk]))
    assert page.context["send_form"].initial["to"] == "+90 532 123 45 67"
    client.post(reverse("guests:guest-send", args=[guest.pk]), sms(stay, recipient=str(guest.pk)))
    message = OutboundMessage.objects.get()
    assert (message.guest, message.reservation, message.source) == (guest, None, "front_desk")


def test_the_first_field_in_error_gets_the_keyboard_focus(client, login, stay, accounts) -> None:
    login("Front desk")
    html = client.post(send_url(stay), sms(stay, to="12", text="")).content.decode()
    assert '<input type="tel" name="to" value="12" maxlength="254" autocomplete="off"' in html
    to_input = html[html.index('name="to"') - 30 : html.index('id="id_to"')]
    assert "autofocus" in to_input
    text_area = html[html.index('<textarea name="text"') : html.index('id="id_text"')]
    assert "autofocus" not in text_area
