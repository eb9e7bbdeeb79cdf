"""Facility bookings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from crm_messaging.ui.admin import ReadOnlyInline, ServiceBackedAdmin, error_text

from .. import services
from ..models import (
    FacilityBooking,
    Reservation,
)
from .base import _staff, _warning_icon

Status = Reservation.Status


# --- Facility bookings -------------------------------------------------------------------------


class FacilityBookingInline(ReadOnlyInline):
    """The bookings of a guest or of a stay; the column naming that parent is left out."""

    model = FacilityBooking
    fields = ("starts_at", "facility", "guest", "party_size", "status", "reservation")
    select_related = ("facility", "guest", "reservation__booker")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(name for name in self.fields if name != self.fk_name)


class FacilityBookingForm(forms.ModelForm):
    class Meta:
        model = FacilityBooking
        fields = ("guest", "facility", "starts_at", "ends_at", "party_size", "reservation", "notes")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        guest, reservation = cleaned.get("guest"), cleaned.get("reservation")
        if (
            guest is not None
            and reservation is not None
            and reservation.booker_id != guest.pk
            and not reservation.companion_links.filter(guest=guest).exists()
        ):
            self.add_error("reservation", "That stay is not this guest's.")
        return cleaned


@admin.register(FacilityBooking)
class FacilityBookingAdmin(ServiceBackedAdmin):
    form = FacilityBookingForm
    list_display = ("starts_at", "facility", "guest_name", "party_size", "status", "stay")
    list_filter = ("status", "facility__facility_type", "facility", "starts_at")
    list_select_related = ("facility", "guest", "reservation")
    search_fields = (
        "guest__first_name",
        "guest__last_name",
        "guest__email",
        "guest__phone",
        "facility__name",
    )
    autocomplete_fields = ("guest", "reservation")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    actions = ("mark_attended", "mark_cancelled", "mark_no_show")

    def get_fields(
        self, request: HttpRequest, obj: FacilityBooking | None = None
    ) -> tuple[str, ...]:
        fields = ("guest", "facility", "starts_at", "ends_at", "party_size", "reservation", "notes")
        return fields if obj is None else (*fields, "status", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Bookings are created and moved between statuses by the services only.

    def has_status_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("guests.change_facilitybooking")

    def save_through_service(
        self, request: HttpRequest, obj: FacilityBooking, form: forms.ModelForm, change: bool
    ) -> FacilityBooking:
        data = form.cleaned_data
        return services.facility_booking_create(
            guest=data["guest"],
            facility=data["facility"],
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            party_size=data["party_size"],
            reservation=data.get("reservation"),
            notes=data.get("notes", ""),
            user=_staff(request),
        )

    @admin.display(description="guest", ordering="guest__last_name")
    def guest_name(self, booking: FacilityBooking) -> str:
        return format_html("{}{}", booking.guest.full_name, _warning_icon(booking.guest))

    @admin.display(description="stay", ordering="reservation_id")
    def stay(self, booking: FacilityBooking) -> str:
        return booking.reservation.number if booking.reservation else "—"

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[FacilityBooking], status: str
    ) -> None:
        done = 0
        for booking in queryset.order_by("pk"):
            try:
                services.facility_booking_set_status(
                    booking=booking, status=status, user=_staff(request)
                )
            except ValidationError as exc:
                messages.error(request, f"{booking}: {error_text(exc)}")
            else:
                done += 1
        if done:
            label = FacilityBooking.Status(status).label.lower()
            messages.success(request, f"{done} booking{'s' if done != 1 else ''} marked {label}.")

    @admin.action(description="Mark selected bookings attended", permissions=("status",))
    def mark_attended(self, request: HttpRequest, queryset: QuerySet[FacilityBooking]) -> None:
        self._set_status(request, queryset, FacilityBooking.Status.ATTENDED)

    @admin.action(description="Cancel selected bookings", permissions=("status",))
    def mark_cancelled(self, request: HttpRequest, queryset: QuerySet[FacilityBooking]) -> None:
        self._set_status(request, queryset, FacilityBooking.Status.CANCELLED)

    @admin.action(description="Mark selected bookings no-show", permissions=("status",))
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[FacilityBooking]) -> None:
        self._set_status(request, queryset, FacilityBooking.Status.NO_SHOW)
