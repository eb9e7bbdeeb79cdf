"""Reservations, their companions and status history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from crm_messaging.ui.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    Refused,
    ServiceBackedAdmin,
    admin_link,
    error_text,
)

from .. import services
from ..models import (
    Hotel,
    Reservation,
    ReservationCompanion,
    ReservationStatusChange,
)
from ..selectors import hotel_business_date
from ..services.reservations import EDITABLE_FIELDS as RESERVATION_EDITABLE_FIELDS
from .base import _phone_or_none, _reservation_pk, _staff, _warning_box, _warning_icon
from .facilities import FacilityBookingInline

Status = Reservation.Status


# --- Reservations ------------------------------------------------------------------------------

RESERVATION_FORM_FIELDS = (
    "booker",
    "arrival",
    "departure",
    "room_type",
    "room_number",
    "board_type",
    "adults",
    "children",
    "nightly_rate",
    "total_amount",
    "currency",
    "agency",
    "market_segment",
    "stay_type",
    "source_channel",
    "external_ref",
    "send_notifications",
    "notes",
)


class ReservationAdminForm(forms.ModelForm):
    """Checks the status rules up front, and the stay's rule (``stay_errors``) through the model,
    so refusals show next to the field."""

    class Meta:
        model = Reservation
        fields = RESERVATION_FORM_FIELDS
        help_texts = {
            "total_amount": "Leave at 0.00 on a new booking to charge nights × nightly rate."
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        departure = cleaned.get("departure")
        # The dates, the rate and the party are the model's rule (Reservation.clean, run after this).
        if self.instance._state.adding:
            return cleaned
        status = (
            Reservation.objects.filter(pk=self.instance.pk).values_list("status", flat=True).first()
        )
        if status is None:
            raise ValidationError("This reservation no longer exists.")
        if status not in (Status.CONFIRMED, Status.CHECKED_IN):
            raise ValidationError(
                f"This reservation is {Status(status).label.lower()} and can no longer be changed."
            )
        if status == Status.CHECKED_IN and departure and "departure" in self.changed_data:
            business_date = hotel_business_date()
            if departure < business_date:
                self.add_error(
                    "departure",
                    f"An in-house guest cannot depart before the business date ({business_date:%d.%m.%Y}).",
                )
        return cleaned


class CompanionForm(forms.ModelForm):
    class Meta:
        model = ReservationCompanion
        fields = ("guest",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["guest"].disabled = True  # Remove the companion and add another instead.


class CompanionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        booker_id = getattr(self.instance, "booker_id", None)
        for form in self.forms:
            guest = getattr(form, "cleaned_data", {}).get("guest")
            if guest is not None and guest.pk == booker_id and not form.cleaned_data.get("DELETE"):
                form.add_error("guest", "The booker is already on this reservation.")


class CompanionInline(admin.TabularInline):
    model = ReservationCompanion
    form = CompanionForm
    formset = CompanionFormSet
    fk_name = "reservation"
    fields = ("guest", "added_at", "added_by")
    readonly_fields = ("added_at", "added_by")
    autocomplete_fields = ("guest",)
    extra = 0
    verbose_name_plural = "companions"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReservationCompanion]:
        return super().get_queryset(request).select_related("guest", "added_by")


class StatusHistoryInline(ReadOnlyInline):
    model = ReservationStatusChange
    verbose_name_plural = "status history"
    fields = ("at", "action", "from_status", "to_status", "business_date", "changes", "note", "by")
    show_change_link = False
    select_related = ("by",)


class StayFacilityBookingInline(FacilityBookingInline):
    fk_name = "reservation"


def _reservation_number_search(
    queryset: QuerySet, results: QuerySet, search_term: str, *, pk_field: str, phone_field: str
) -> QuerySet:
    term = search_term.strip()
    extra = Q()
    pk = _reservation_pk(term)
    if pk is not None:
        extra |= Q(**{pk_field: pk})
    phone = _phone_or_none(term)
    if phone:
        extra |= Q(**{phone_field: phone})
    return results | queryset.filter(extra) if extra else results


# What a list of stays shows of each.
STAY_COLUMNS = ("arrival", "departure", "nights", "status", "room_type", "room_number")


@admin.register(Reservation)
class ReservationAdmin(ServiceBackedAdmin):
    form = ReservationAdminForm
    list_display = ("reservation_number", "booker_name", *STAY_COLUMNS, "agency", "source_channel")
    list_filter = (
        "status",
        "arrival",
        "board_type",
        "agency",
        "source_channel",
        "market_segment",
        "room_type",
    )
    list_select_related = ("booker", "room_type", "agency", "source_channel")
    search_fields = (
        "booker__first_name",
        "booker__last_name",
        "booker__email",
        "booker__phone",
        "external_ref",
    )
    autocomplete_fields = ("booker",)
    date_hierarchy = "arrival"
    ordering = ("-arrival", "-pk")
    actions = ("check_in", "check_out", "cancel", "mark_no_show")
    # The stay's history: set by the services, shown once the reservation exists.
    history = (
        "created_at",
        "updated_at",
        "checked_in_at",
        "checked_out_at",
        "cancelled_at",
        "cancel_reason",
    )
    readonly_fields = ("reservation_number", "booker_warning", "status", "nights", *history)
    inlines = (CompanionInline, StatusHistoryInline, StayFacilityBookingInline)

    def get_inlines(
        self, request: HttpRequest, obj: Reservation | None
    ) -> tuple[type[admin.options.InlineModelAdmin], ...]:
        return self.inlines if obj is not None else (CompanionInline,)

    def get_fieldsets(self, request: HttpRequest, obj: Reservation | None = None) -> list[Any]:
        booking: tuple[str, ...] = ("booker", "arrival", "departure")
        if obj is not None:
            booking = ("reservation_number", "status", "booker", "arrival", "departure", "nights")
        fieldsets: list[Any] = [
            ("Stay", {"fields": booking}),
            ("Room", {"fields": ("room_type", "room_number", "board_type", "adults", "children")}),
            ("Price", {"fields": ("nightly_rate", "total_amount", "currency")}),
            (
                "Commercial",
                {
                    "fields": (
                        "agency",
                        "market_segment",
                        "stay_type",
                        "source_channel",
                        "external_ref",
                    )
                },
            ),
            ("Messages and notes", {"fields": ("send_notifications", "notes")}),
        ]
        if obj is None:
            return fieldsets
        if obj.booker.warning_note:
            fieldsets.insert(0, ("Warning", {"fields": ("booker_warning",)}))
        return [*fieldsets, ("History", {"fields": self.history})]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Reservation | None = None
    ) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        # The booker never changes, and the arrival is fixed once the guest is in house.
        return (
            (*fields, "booker", "arrival")
            if obj.status == Status.CHECKED_IN
            else (*fields, "booker")
        )

    def has_change_permission(self, request: HttpRequest, obj: Reservation | None = None) -> bool:
        if obj is not None and not obj.is_active_stay:
            return False  # A closed stay is history.
        return super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = {**super().get_changeform_initial_data(request)}
        initial.setdefault("send_notifications", Hotel.load().send_notifications_default)
        initial.setdefault("arrival", hotel_business_date())
        return initial

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Reservation], search_term: str
    ) -> tuple[QuerySet[Reservation], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        results = _reservation_number_search(
            queryset, results, search_term, pk_field="pk", phone_field="booker__phone"
        )
        return results, may_have_duplicates

    def save_through_service(
        self, request: HttpRequest, obj: Reservation, form: forms.ModelForm, change: bool
    ) -> Reservation:
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in RESERVATION_EDITABLE_FIELDS}
            return services.reservation_modify(
                reservation=Reservation.objects.get(pk=obj.pk), user=_staff(request), **changes
            )
        fixed = ("booker", "arrival", "departure", "room_type", "board_type", "send_notifications")
        details = {
            f: v for f, v in data.items() if f in RESERVATION_EDITABLE_FIELDS and f not in fixed
        }
        if "total_amount" not in form.changed_data:
            del details["total_amount"]  # The service charges nights × nightly rate.
        return services.reservation_create(
            booker=data["booker"],
            arrival=data["arrival"],
            departure=data["departure"],
            room_type=data["room_type"],
            board_type=data["board_type"],
            send_notifications=data["send_notifications"],
            user=_staff(request),
            **details,
        )

    def construct_change_message(
        self, request: HttpRequest, form: forms.Form, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The companion services keep their own changes in the history.
        others = [f for f in formsets or () if f.model is not ReservationCompanion]
        return super().construct_change_message(request, form, others, add)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not message:  # only companions changed: their service has kept that already
            return None
        return super().log_change(request, obj, message)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not ReservationCompanion:
            super().save_formset(request, form, formset, change)
            return
        links = formset.save(commit=False)
        for link in formset.deleted_objects:
            services.reservation_remove_companion(
                reservation=form.instance, guest=link.guest, user=_staff(request)
            )
        for link in links:
            if link.pk is None:
                try:
                    services.reservation_add_companion(
                        reservation=form.instance, guest=link.guest, user=_staff(request)
                    )
                except ValidationError as exc:
                    raise Refused(exc) from exc

    @admin.display(description="number", ordering="pk")
    def reservation_number(self, reservation: Reservation) -> str:
        return reservation.number

    @admin.display(description="booker", ordering="booker__last_name")
    def booker_name(self, reservation: Reservation) -> str:
        return format_html("{}{}", reservation.booker.full_name, _warning_icon(reservation.booker))

    @admin.display(description="booker warning")
    def booker_warning(self, reservation: Reservation) -> str:
        note = reservation.booker.warning_note if reservation.booker_id else ""
        return _warning_box(note) if note else "—"

    def _transition(
        self,
        request: HttpRequest,
        queryset: QuerySet[Reservation],
        service: Callable[..., Reservation],
        done: str,
        **kwargs: Any,
    ) -> None:
        succeeded = 0
        for reservation in queryset.order_by("pk"):
            try:
                service(reservation=reservation, user=_staff(request), **kwargs)
            except ValidationError as exc:  # TransitionError: the service changed nothing.
                messages.error(request, error_text(exc))
            else:
                succeeded += 1
        if succeeded:
            noun = "reservation" if succeeded == 1 else "reservations"
            messages.success(request, f"{succeeded} {noun} {done}.")

    @admin.action(description="Check in selected reservations", permissions=("change",))
    def check_in(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._transition(request, queryset, services.reservation_check_in, "checked in")

    @admin.action(description="Check out selected reservations", permissions=("change",))
    def check_out(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._transition(request, queryset, services.reservation_check_out, "checked out")

    @admin.action(description="Cancel selected reservations", permissions=("change",))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._transition(
            request,
            queryset,
            services.reservation_cancel,
            "cancelled",
            reason="cancelled in the admin",
        )

    @admin.action(description="Mark selected reservations as no-show", permissions=("change",))
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._transition(
            request, queryset, services.reservation_mark_no_show, "marked as no-show", note="admin"
        )


@admin.register(ReservationStatusChange)
class ReservationStatusChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "reservation_link",
        "booker",
        "action",
        "from_status",
        "to_status",
        "business_date",
        "by",
    )
    list_filter = ("action", "to_status", "business_date")
    list_select_related = ("reservation__booker", "by")
    search_fields = ("reservation__booker__first_name", "reservation__booker__last_name", "note")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ReservationStatusChange], search_term: str
    ) -> tuple[QuerySet[ReservationStatusChange], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        results = _reservation_number_search(
            queryset,
            results,
            search_term,
            pk_field="reservation_id",
            phone_field="reservation__booker__phone",
        )
        return results, may_have_duplicates

    @admin.display(description="reservation", ordering="reservation_id")
    def reservation_link(self, change: ReservationStatusChange) -> str:
        return admin_link(change.reservation, change.reservation.number)

    @admin.display(description="booker")
    def booker(self, change: ReservationStatusChange) -> str:
        return change.reservation.booker.full_name
