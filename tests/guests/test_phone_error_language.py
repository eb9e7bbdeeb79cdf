"""A refused phone number on the staff guest form and the admin's guest form reads in the
language the form is shown in (the error is lazy), not the one it was checked in."""

from __future__ import annotations

import pytest
from django.utils import translation

from guests.admin.guests import GuestAdminForm
from interfaces.frontdesk.forms import GuestForm

pytestmark = pytest.mark.django_db

TURKISH = "“+90 12” geçerli bir telefon numarası değil: çok kısa."
ENGLISH = "“+90 12” is not a valid phone number: it is too short."


def shown(form, language: str) -> str:
    with translation.override(language):
        return str(form["phone"].errors)


@pytest.mark.parametrize(
    "form",
    [
        lambda: GuestForm(
            {"first_name": "Ayşe", "phone": "+90 12", "language": "tr", "vip_level": 0}
        ),
        lambda: GuestAdminForm({"first_name": "Ayşe", "phone": "+90 12", "language": "tr"}),
    ],
    ids=["front desk", "admin"],
)
def test_the_phone_error_reads_in_the_language_the_form_is_shown_in(form) -> None:
    checked = form()
    with translation.override("en"):
        assert not checked.is_valid()
    assert TURKISH in shown(checked, "tr")
    assert ENGLISH not in shown(checked, "tr")
    assert ENGLISH in shown(checked, "en")
