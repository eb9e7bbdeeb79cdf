"""Every staff write goes through a service that keeps it in the object's history (the admin's
LogEntry) with the staff member: views, forms and admin actions only call the services, so each
way in leaves exactly one entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db.models import Model
from django.urls import reverse

from channels_out.models import CreditOrder
from channels_out.services import message_mark_sent, message_resend
from channels_out.services.credits import (
    credit_order_cancel,
    credit_order_create,
    credit_order_mark_paid,
)
from guests.models import Reservation
from guests.services import (
    guest_update,
    reservation_add_companion,
    reservation_remove_companion,
)
from tests.factories import GuestFactory, ReservationFactory

pytestmark = pytest.mark.django_db


def history(obj: Model) -> list[tuple[Any, int, str]]:
    entries = LogEntry.objects.filter(
        object_id=str(obj.pk), content_type__model=obj._meta.model_name
    ).order_by("pk")
    return [(entry.user, entry.action_flag, entry.get_change_message()) for entry in entries]


def test_an_operator_decision_is_kept_with_the_operator(unknown, admin_user) -> None:
    message_mark_sent(message=unknown, user=admin_user)
    assert history(unknown) == [(admin_user, CHANGE, "Marked sent: the unknown outcome went out.")]


def test_a_resend_is_kept_with_the_operator_and_names_the_copy(unknown, admin_user) -> None:
    copy = message_resend(message=unknown, user=admin_user)
    assert history(unknown) == [
        (admin_user, CHANGE, f"Resent: the unknown outcome did not go out; copy #{copy.pk}.")
    ]


def test_a_credit_order_keeps_who_ordered_paid_and_cancelled_it(admin_user) -> None:
    order = credit_order_create(credits=100, user=admin_user)
    credit_order_mark_paid(order=order, user=admin_user)
    credit_order_mark_paid(order=order, user=admin_user)  # a second click adds nothing
    other = credit_order_create(credits=5, user=admin_user)
    credit_order_cancel(order=other, user=admin_user)
    credit_order_cancel(order=other, user=admin_user)
    assert history(order) == [
        (admin_user, ADDITION, f"Ordered 100 credits: invoice {order.invoice_number}."),
        (admin_user, CHANGE, f"Marked paid; 100 credits added ({order.invoice_number})."),
    ]
    assert [flag for _, flag, _ in history(other)] == [ADDITION, CHANGE]


def test_an_order_added_in_the_admin_has_one_history_entry(admin_client, admin_user) -> None:
    response = admin_client.post(reverse("admin:channels_out_creditorder_add"), {"credits": "50"})
    assert response.status_code == 302
    order = CreditOrder.objects.get()
    assert history(order) == [
        (admin_user, ADDITION, f"Ordered 50 credits: invoice {order.invoice_number}.")
    ]


def test_paying_in_the_admin_is_kept_too(admin_client, admin_user) -> None:
    order = credit_order_create(credits=20)
    admin_client.post(
        reverse("admin:channels_out_creditorder_changelist"),
        {"action": "mark_paid", "_selected_action": [order.pk]},
    )
    assert history(order) == [
        (admin_user, CHANGE, f"Marked paid; 20 credits added ({order.invoice_number}).")
    ]


def test_a_profile_change_names_the_changed_fields_only(admin_user) -> None:
    guest = GuestFactory(first_name="Ayşe", phone="+905321234567")
    guest_update(guest=guest, first_name="Ayşe", phone="0533 111 22 33", user=admin_user)
    guest_update(guest=guest, first_name="Ayşe", user=admin_user)  # nothing changed
    assert history(guest) == [(admin_user, CHANGE, "Changed phone.")]


def test_a_profile_changed_in_the_admin_has_one_history_entry(admin_client, admin_user) -> None:
    guest = GuestFactory(first_name="Ayşe", last_name="Yılmaz", language="tr")
    page = admin_client.get(reverse("admin:guests_guest_change", args=[guest.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data["last_name"] = "Kaya"
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    response = admin_client.post(reverse("admin:guests_guest_change", args=[guest.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert history(guest) == [(admin_user, CHANGE, "Changed last_name.")]


def test_companions_added_and_removed_are_kept_with_the_staff_member(hotel, admin_user) -> None:
    reservation = ReservationFactory()
    companion = GuestFactory(first_name="Can", last_name="Demir")
    reservation_add_companion(reservation=reservation, guest=companion, user=admin_user)
    reservation_add_companion(reservation=reservation, guest=companion, user=admin_user)
    assert reservation_remove_companion(reservation=reservation, guest=companion, user=admin_user)
    assert not reservation_remove_companion(
        reservation=reservation, guest=companion, user=admin_user
    )
    assert list(reservation.companions.all()) == []
    assert history(reservation) == [
        (admin_user, CHANGE, f"Added companion Can Demir (#{companion.pk})."),
        (admin_user, CHANGE, f"Removed companion Can Demir (#{companion.pk})."),
    ]


def test_removing_a_companion_in_the_admin_goes_through_the_service(
    admin_client, admin_user, reference_data, hotel
) -> None:
    reservation = ReservationFactory(
        arrival=hotel.business_date + dt.timedelta(days=3),
        departure=hotel.business_date + dt.timedelta(days=5),
    )
    companion = GuestFactory(first_name="Can", last_name="Demir")
    reservation_add_companion(reservation=reservation, guest=companion)
    link = reservation.companion_links.get()
    change_url = reverse("admin:guests_reservation_change", args=[reservation.pk])
    page = admin_client.get(change_url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data["send_notifications"] = "on" if data["send_notifications"] else ""
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    data.update(
        {
            "companion_links-0-id": link.pk,
            "companion_links-0-reservation": reservation.pk,
            "companion_links-0-guest": companion.pk,
            "companion_links-0-DELETE": "on",
        }
    )
    response = admin_client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not Reservation.objects.get(pk=reservation.pk).companions.exists()
    assert history(reservation) == [
        (admin_user, CHANGE, f"Removed companion Can Demir (#{companion.pk}).")
    ]
