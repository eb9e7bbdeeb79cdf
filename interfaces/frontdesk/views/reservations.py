"""Reservation screens (G2, G4): the front desk's lists and the page of one stay with its
status actions. Every change goes through ``guests.services``, which records
who made it; a refused move is shown as a message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from channels_out.selectors import reservation_messages
from crm_messaging.ui.screens import StaffView, next_url, paginate, refusal
from guests.models import GreylistEntry, Guest, Reservation, ReservationCompanion
from guests.selectors import hotel_business_date
from guests.services import (
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_mark_no_show,
    reservation_modify,
)

from ..forms import CancelForm, CheckInForm, NoShowForm, NotificationsForm, ReservationSearchForm
from .common import PAGE_SIZE, guest_search, reservation_number
from .messaging import HistoryMixin, SendMessageMixin, SendTarget

Status = Reservation.Status

TABS: list[tuple[str, Any]] = [
    ("arrivals", gettext_lazy("Arriving today")),
    ("in_house", gettext_lazy("In house")),
    ("departures", gettext_lazy("Departing today")),
    ("upcoming", gettext_lazy("Upcoming")),
    ("all", gettext_lazy("All")),
]
# Those still to be dealt with first: arrivals to check in, departures to check out.
_PENDING_FIRST = Case(
    When(status__in=[Status.CONFIRMED], then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)


def tab_filters(today: dt.date) -> dict[str, Q | None]:
    """What each tab shows on the business date ``today`` (None: everything)."""
    return {
        "arrivals": Q(arrival=today, status__in=[Status.CONFIRMED, Status.CHECKED_IN]),
        "in_house": Q(status=Status.CHECKED_IN),
        "departures": Q(departure=today, status__in=[Status.CHECKED_IN, Status.CHECKED_OUT]),
        "upcoming": Q(arrival__gt=today, status=Status.CONFIRMED),
        "all": None,
    }


TAB_ORDER: dict[str, tuple[Any, ...]] = {
    "arrivals": (_PENDING_FIRST, "booker__last_name", "booker__first_name", "pk"),
    "in_house": ("room_number", "departure", "pk"),
    "departures": (
        Case(When(status=Status.CHECKED_IN, then=Value(0)), default=Value(1)),
        "room_number",
        "pk",
    ),
    "upcoming": ("arrival", "booker__last_name", "pk"),
    "all": ("-arrival", "-pk"),
}


def reservations_matching(text: str) -> QuerySet[Reservation]:
    """Stays whose booker or a companion matches ``text``, or whose number or channel reference it is."""
    queryset = Reservation.objects.all()
    text = text.strip()
    if not text:
        return queryset
    guests = Guest.objects.filter(guest_search(text)).values("pk")
    match = (
        Q(booker__in=guests)
        | Q(
            Exists(
                ReservationCompanion.objects.filter(reservation=OuterRef("pk"), guest__in=guests)
            )
        )
        | Q(external_ref__iexact=text)
    )
    if (number := reservation_number(text)) is not None:
        match |= Q(pk=number)
    return queryset.filter(match)


def list_rows(queryset: QuerySet[Reservation]) -> QuerySet[Reservation]:
    """What a row of the list shows, in one query however many rows (no N+1)."""
    companions = ReservationCompanion.objects.filter(reservation=OuterRef("pk"))
    return queryset.select_related("booker", "room_type", "board_type").annotate(
        companion_count=Coalesce(
            Subquery(companions.values("reservation").annotate(n=Count("pk")).values("n")[:1]), 0
        ),
        companion_warning=Exists(companions.exclude(guest__warning_note="")),
    )


class ReservationListView(StaffView, TemplateView):
    """Reservations by tab (arriving, in house, departing, upcoming, all), searched, 25 a page."""

    permission_required = "guests.view_reservation"
    template_name = "guests/reservation_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = hotel_business_date()
        form = ReservationSearchForm(self.request.GET)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        filters = tab_filters(today)
        tab = self.request.GET.get("tab", "")
        if tab not in filters:
            tab = "all" if query else "arrivals"
        matching = reservations_matching(query)
        counts = matching.aggregate(
            **{
                name: Count("pk", filter=cond) if cond is not None else Count("pk")
                for name, cond in filters.items()
            }
        )
        rows = matching if filters[tab] is None else matching.filter(filters[tab])
        page = paginate(self.request, list_rows(rows).order_by(*TAB_ORDER[tab]), PAGE_SIZE)
        context.update(
            form=form,
            query=query,
            tab=tab,
            today=today,
            page=page,
            can_book=self.request.user.has_perm("guests.add_reservation"),
            tabs=[
                {"key": key, "label": label, "count": counts[key], "selected": key == tab}
                for key, label in TABS
            ],
        )
        return context


# --- One stay -------------------------------------------------------------------------------------


class ReservationPage(SendMessageMixin, HistoryMixin, StaffView, TemplateView):
    """A stay: its details, its guests (warnings first), the status actions, a one-off message
    and the messages about it and its guests."""

    permission_required: str | tuple[str, ...] = "guests.view_reservation"
    template_name = "guests/reservation_detail.html"

    @cached_property
    def reservation(self) -> Reservation:
        return get_object_or_404(
            Reservation.objects.select_related(
                "booker",
                "booker__loyalty_tier",
                "room_type",
                "board_type",
                "agency",
                "market_segment",
                "stay_type",
                "source_channel",
            ),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def companions(self) -> list[Guest]:
        return list(
            Guest.objects.filter(companion_links__reservation=self.reservation)
            .annotate(added_in_portal=F("companion_links__added_by"))
            .select_related("loyalty_tier")
            .order_by("companion_links__added_at", "pk")
        )

    @property
    def page_url(self) -> str:
        return reverse("guests:reservation-detail", args=[self.reservation.pk])

    def send_target(self) -> SendTarget:
        return SendTarget(
            recipients=[self.reservation.booker, *self.companions],
            reservation=self.reservation,
            form_url=reverse("guests:reservation-send-form", args=[self.reservation.pk]),
            action_url=reverse("guests:reservation-send", args=[self.reservation.pk]),
        )

    def history_source(self) -> Any:
        return reservation_messages(self.reservation)

    def history_url(self) -> str:
        return reverse("guests:reservation-messages", args=[self.reservation.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        reservation = self.reservation
        guests = [reservation.booker, *self.companions]
        greylisted = set(
            GreylistEntry.objects.active()
            .filter(guest__in=guests)
            .values_list("guest_id", flat=True)
        )
        user = self.request.user
        can_change = user.has_perm("guests.change_reservation")
        status = reservation.status
        context.update(
            reservation=reservation,
            stay_guests=[
                {
                    "guest": guest,
                    "is_booker": index == 0,
                    "greylisted": guest.pk in greylisted,
                    "earlier_stays": guest.stays_before(reservation),
                    # Described by the booker in the portal: who it is, staff judge (merge).
                    "added_in_portal": getattr(guest, "added_in_portal", None) is not None,
                }
                for index, guest in enumerate(guests)
            ],
            warnings=[guest for guest in guests if guest.warning_note.strip()],
            status_changes=list(reservation.status_changes.select_related("by")[:20]),
            can_change=can_change,
            can_view_guests=user.has_perm("guests.view_guest"),
            may_check_in=can_change and status == Status.CONFIRMED,
            may_check_out=can_change and status == Status.CHECKED_IN,
            may_cancel=can_change and status == Status.CONFIRMED,
            may_no_show=can_change and status == Status.CONFIRMED,
            may_switch_notifications=can_change and reservation.is_active_stay,
            check_in_form=kwargs.get("check_in_form")
            or CheckInForm(initial={"room_number": reservation.room_number}),
            cancel_form=kwargs.get("cancel_form") or CancelForm(),
            no_show_form=kwargs.get("no_show_form") or NoShowForm(),
            notifications_form=NotificationsForm(
                initial={"send_notifications": not reservation.send_notifications}
            ),
        )
        if user.has_perm("channels_out.send_one_off"):
            context.update(self.send_context(kwargs.get("send_form")))
        if user.has_perm("channels_out.view_outboundmessage"):
            context.update(self.history_context())
        return context


class ReservationDetailView(ReservationPage):
    pass


class _ReservationAction(ReservationPage):
    """POST: one status action through its service; a refusal becomes an error message."""

    permission_required = ("guests.view_reservation", "guests.change_reservation")
    http_method_names = ["post"]
    form_class: type[forms.Form] = forms.Form
    form_name = ""

    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please correct the errors below."))
            return self.render_to_response(self.get_context_data(**{self.form_name: form}))
        try:
            done = self.act(self.reservation, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(next_url(request, self.page_url))


class ReservationCheckInView(_ReservationAction):
    form_class = CheckInForm
    form_name = "check_in_form"

    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        room = data["room_number"].strip()
        done = reservation_check_in(
            reservation=reservation, room_number=room, user=self.request.user
        )
        if done.room_number:
            return _("%(number)s checked in, room %(room)s.") % {
                "number": done.number,
                "room": done.room_number,
            }
        return _("%(number)s checked in.") % {"number": done.number}


class ReservationCheckOutView(_ReservationAction):
    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        done = reservation_check_out(reservation=reservation, user=self.request.user)
        return _("%(number)s checked out.") % {"number": done.number}


class ReservationCancelView(_ReservationAction):
    form_class = CancelForm
    form_name = "cancel_form"

    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        done = reservation_cancel(
            reservation=reservation, reason=data["reason"], user=self.request.user
        )
        return _("%(number)s cancelled.") % {"number": done.number}


class ReservationNoShowView(_ReservationAction):
    form_class = NoShowForm
    form_name = "no_show_form"

    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        done = reservation_mark_no_show(
            reservation=reservation, note=data["note"], user=self.request.user
        )
        return _("%(number)s marked as a no-show.") % {"number": done.number}


class ReservationNotificationsView(_ReservationAction):
    form_class = NotificationsForm

    def act(self, reservation: Reservation, data: dict[str, Any]) -> str:
        on = data["send_notifications"]
        reservation_modify(reservation=reservation, send_notifications=on, user=self.request.user)
        if on:
            return _("Automatic messages are on for %(number)s.") % {"number": reservation.number}
        return _("Automatic messages are off for %(number)s.") % {"number": reservation.number}


class ReservationSendView(ReservationPage):
    """POST: a one-off message to one of the stay's guests."""

    permission_required = ("guests.view_reservation", "channels_out.send_one_off")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.send()


class ReservationSendFormView(ReservationPage):
    """htmx: the send form re-drawn for another guest or channel."""

    permission_required = ("guests.view_reservation", "channels_out.send_one_off")
    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        return self.redraw_send_form()


class ReservationMessagesView(ReservationPage):
    """htmx: the stay's message history with fresh statuses (polled every 5 s)."""

    permission_required = ("guests.view_reservation", "channels_out.view_outboundmessage")
    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        return self.render_history()
