"""@SURVEY is filled (seed 000's post-stay survey): a survey address template per campaign or
for the hotel, its placeholders filled for each guest; the gallery's survey text uses it."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.gallery import gallery_apply
from campaigns.models import CampaignSettings, Source, Trigger
from campaigns.survey import survey_url_errors
from campaigns.validation import definition_errors
from channels_out.backends import locmem
from guests.models import Hotel, Reservation
from guests.services import reservation_check_out
from interfaces.staff.settings_view import SettingsForm
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db
TEMPLATE = "https://survey.example.com/s/4Hq?booking={resno}&lang={language}&room={room}"


@pytest.fixture
def survey(make_campaign, top_up, hotel):
    """The gallery's post-stay survey, sent at check-out."""
    top_up(100)
    Hotel.objects.filter(pk=hotel.pk).update(email="frontdesk@hotel.example")
    campaign = make_campaign(trigger=Trigger.CHECK_OUT, source=Source.RESERVATIONS)
    gallery_apply(campaign=campaign, key="post_stay_survey", overwrite=True)
    return campaign


def _leave(hotel, language: str = "en", room: str = "214") -> Reservation:
    reservation = ReservationFactory(
        booker=GuestFactory(first_name="Emma", language=language),
        arrival=hotel.business_date - dt.timedelta(days=2),
        status=Reservation.Status.CHECKED_IN,
        room_number=room,
    )
    reservation_check_out(reservation=reservation)
    return reservation


def test_the_campaigns_survey_link_is_filled_for_each_guest(
    survey, hotel, django_capture_on_commit_callbacks
) -> None:
    survey.survey_url = TEMPLATE
    survey.save()
    with django_capture_on_commit_callbacks(execute=True):
        first = _leave(hotel, "en", room="214")
        second = _leave(hotel, "de", room="3 B")
    bodies = sorted(message.body for message in locmem.outbox)
    assert any(
        f"Tell us in 2 minutes: https://survey.example.com/s/4Hq?booking={first.number}&lang=en&room=214"
        in body
        for body in bodies
    ), bodies
    # Each value is encoded for the address: a space in the room does not break the link.
    assert any(f"booking={second.number}&lang=de&room=3%20B" in body for body in bodies)
    assert not any("frontdesk@hotel.example" in body for body in bodies)


def test_the_hotels_survey_link_serves_every_campaign_that_names_none(
    survey, hotel, django_capture_on_commit_callbacks
) -> None:
    house = CampaignSettings.load()
    house.survey_url = "https://forms.example.org/stay?r={resno}"
    house.save()
    with django_capture_on_commit_callbacks(execute=True):
        reservation = _leave(hotel)
    [message] = locmem.outbox
    assert f"https://forms.example.org/stay?r={reservation.number}" in message.body
    survey.survey_url = TEMPLATE  # the campaign's own wins
    survey.save()
    with django_capture_on_commit_callbacks(execute=True):
        other = _leave(hotel)
    assert f"booking={other.number}" in locmem.outbox[-1].body


def test_without_a_survey_link_the_survey_asks_for_a_reply_by_e_mail(
    survey, hotel, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _leave(hotel)
    [message] = locmem.outbox
    assert "We would love to hear from you: frontdesk@hotel.example" in message.body
    assert "https://" not in message.body


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("https://survey.example.com/?b={booking}", "Unknown placeholder {booking}"),
        ("https://survey.example.com/?b={resno", "brace"),
        ("survey.example.com/{resno}", "https://"),
        ("javascript:alert(1)//{resno}", "https://"),
    ],
)
def test_a_survey_link_that_cannot_work_is_refused_on_the_field(
    make_campaign, template: str, complaint: str
) -> None:
    assert complaint in survey_url_errors(template)[0]
    campaign = make_campaign(trigger=Trigger.CHECK_OUT, survey_url=template)
    assert complaint in definition_errors(campaign)["survey_url"][0]
    form = SettingsForm(data={**SettingsForm.initial_values(), "survey_url": template})
    assert not form.is_valid()
    assert "survey_url" in form.errors


def test_a_good_survey_link_passes(make_campaign) -> None:
    assert survey_url_errors(TEMPLATE) == []
    assert survey_url_errors("") == []
    assert "survey_url" not in definition_errors(
        make_campaign(trigger=Trigger.CHECK_OUT, survey_url=TEMPLATE)
    )
