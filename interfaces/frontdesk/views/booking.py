"""A new stay from the Reservations screen (G2): a booking or a walk-in, for a guest on file or
a new one. The writes are the guest and reservation services', in one transaction: a refusal
of any of them leaves nothing behind."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from crm_messaging.numbers import whole_number
from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView
from guests.models import Guest, Reservation
from guests.selectors import hotel_business_date
from guests.services import guest_create, reservation_check_in, reservation_create

from ..forms import ReservationCreateForm, apply_service_errors

WALK_IN_PERMISSION = "guests.change_reservation"
NEW_GUEST_PERMISSION = "guests.add_guest"


class ReservationCreateView(StaffView, TemplateView):
    """GET: the form (``?guest=<id>`` books for that guest); POST: book, and check a walk-in in."""

    permission_required = ("guests.view_reservation", "guests.add_reservation")
    template_name = "guests/reservation_create.html"

    @cached_property
    def booker(self) -> Guest | None:
        raw = self.request.POST.get("booker") or self.request.GET.get("guest") or ""
        if not raw:
            return None
        if (guest_id := whole_number(raw)) is None:
            raise Http404(_("There is no such guest."))
        return get_object_or_404(Guest, pk=guest_id)

    @cached_property
    def today(self) -> dt.date:
        return hotel_business_date()

    def form(self, data: Any = None) -> ReservationCreateForm:
        initial = {
            "arrival": self.today,
            "departure": self.today + dt.timedelta(days=1),
            "booker": self.booker.pk if self.booker else None,
        }
        return ReservationCreateForm(data, initial=initial, today=self.today, booker=self.booker)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            form=kwargs.get("form") or self.form(),
            booker=self.booker,
            today=self.today,
            may_walk_in=user.has_perm(WALK_IN_PERMISSION),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if again := resubmitted(request, form="reservation-create"):
            return again.response(request)
        form = self.form(request.POST)
        user = request.user
        if self.booker is None and not user.has_perm(NEW_GUEST_PERMISSION):
            raise PermissionDenied(_("You may book only for guests already on file."))
        if form.is_valid():
            data = form.cleaned_data
            if data["walk_in"] and not user.has_perm(WALK_IN_PERMISSION):
                raise PermissionDenied(_("You may not check guests in."))
            try:
                reservation = submit_once(
                    request,
                    form="reservation-create",
                    write=lambda: self.book(data),
                    landing=lambda made: reverse("guests:reservation-detail", args=[made.pk]),
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if data["walk_in"]:
                    done = _("%(number)s booked and checked in.")
                else:
                    done = _("%(number)s booked.")
                messages.success(request, done % {"number": reservation.number})
                return HttpResponseRedirect(
                    reverse("guests:reservation-detail", args=[reservation.pk])
                )
        messages.error(request, _("The reservation was not made; please correct the errors below."))
        return self.render_to_response(self.get_context_data(form=form))

    @transaction.atomic
    def book(self, data: dict[str, Any]) -> Reservation:
        user = self.request.user
        booker = self.booker or guest_create(
            first_name=data["first_name"],
            last_name=data["last_name"].strip(),
            phone=data["phone"],
            email=data["email"],
            language=data["language"],
            user=user,
        )
        reservation = reservation_create(
            booker=booker,
            arrival=data["arrival"],
            departure=data["departure"],
            room_type=data["room_type"],
            board_type=data["board_type"],
            room_number=data["room_number"].strip(),
            adults=data["adults"],
            children=data["children"],
            nightly_rate=data["nightly_rate"],
            notes=data["notes"],
            user=user,
        )
        if data["walk_in"]:
            reservation = reservation_check_in(
                reservation=reservation, room_number=data["room_number"].strip(), user=user
            )
        return reservation
