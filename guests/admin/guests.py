"""Guests, greylist and merges."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django_countries import countries

from crm_messaging.phones import format_phone_international, normalise_phone
from crm_messaging.ui.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceBackedAdmin,
    YesNoFilter,
    admin_link,
    error_text,
)

from .. import services
from ..contacts import normalise_email
from ..models import (
    PROFILE_FIELDS,
    ConsentRecord,
    GreylistEntry,
    Guest,
    GuestMerge,
    Reservation,
    ReservationCompanion,
)
from ..models.guest import GreylistQuerySet
from ..selectors import consent_current, greylisted_expression
from .base import _phone_or_none, _staff, _warning_box, _warning_icon
from .facilities import FacilityBookingInline
from .reservations import STAY_COLUMNS

Status = Reservation.Status


# --- Guests ------------------------------------------------------------------------------------


class GuestAdminForm(forms.ModelForm):
    """Normalises the contact details the way the services do, reporting errors per field."""

    class Meta:
        model = Guest
        fields = ("email", "phone", *PROFILE_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        adding = self.instance._state.adding
        for field, normalise in (("email", normalise_email), ("phone", normalise_phone)):
            # An imported number we cannot read stays as it is until staff change it.
            if field not in cleaned or (not adding and field not in self.changed_data):
                continue
            raw = (cleaned[field] or "").strip()
            try:
                cleaned[field] = normalise(raw) if raw else ""
            except ValidationError as exc:
                self.add_error(field, exc)
        if "phone" in cleaned and (adding or "phone" in self.changed_data):
            # What the service will store; keeps the model's "valid means E.164" check truthful.
            self.instance.phone_valid = bool(cleaned["phone"])
        return cleaned


class NationalityFilter(admin.SimpleListFilter):
    title = "nationality"
    parameter_name = "nationality"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        codes = (
            Guest.objects.exclude(nationality="")
            .order_by()
            .values_list("nationality", flat=True)
            .distinct()
        )
        return sorted(
            ((code, countries.name(code) or code) for code in codes), key=lambda item: item[1]
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Guest]) -> QuerySet[Guest]:
        return queryset.filter(nationality=self.value()) if self.value() else queryset


class GreylistedFilter(YesNoFilter):
    title = "greylist"
    parameter_name = "greylisted"
    yes_label, no_label = "Greylisted now", "Not greylisted"

    def condition(self) -> Any:
        return greylisted_expression()


class WarningFilter(YesNoFilter):
    title = "warning note"
    parameter_name = "warning"
    yes_label, no_label = "Has a warning", "No warning"

    def condition(self) -> Any:
        return ~Q(warning_note="")


class ConsentHistoryInline(ReadOnlyInline):
    model = ConsentRecord
    verbose_name_plural = "consent history (append-only)"
    fields = (
        "recorded_at",
        "purpose",
        "channel",
        "granted",
        "source",
        "wording_version",
        "note",
        "recorded_by",
    )
    ordering = ("-recorded_at", "-pk")
    select_related = ("recorded_by",)


# What a greylist entry shows, on the guest's page and on its own.
GREYLIST_COLUMNS = (
    "reason",
    "state",
    "expires_at",
    "created_at",
    "created_by",
    "lifted_at",
    "lifted_by",
    "lift_reason",
)


class GreylistColumns:
    @admin.display(description="state")
    def state(self, entry: GreylistEntry) -> str:
        if entry.lifted_at is not None:
            return "lifted"
        if entry.is_active():
            return "active"
        return "expired"


class GuestGreylistInline(GreylistColumns, ReadOnlyInline):
    model = GreylistEntry
    fields = GREYLIST_COLUMNS
    readonly_fields = ("state",)
    select_related = ("created_by", "lifted_by")


class BookerReservationInline(ReadOnlyInline):
    model = Reservation
    fk_name = "booker"
    verbose_name_plural = "reservations as booker"
    fields = ("number", *STAY_COLUMNS, "board_type")
    readonly_fields = ("number",)
    ordering = ("-arrival", "-pk")
    select_related = ("room_type", "board_type")

    @admin.display(description="number")
    def number(self, reservation: Reservation) -> str:
        return admin_link(reservation, reservation.number)


class CompanionStayInline(ReadOnlyInline):
    model = ReservationCompanion
    fk_name = "guest"
    verbose_name_plural = "stays as companion"
    fields = ("reservation", "added_at", "added_by")
    show_change_link = False
    select_related = ("reservation__booker", "added_by")


class GuestFacilityBookingInline(FacilityBookingInline):
    fk_name = "guest"
    ordering = ("-starts_at",)


class MergeColumns:
    """The columns a merge shows, in its inline and its list."""

    @admin.display(description="merged profile")
    def merged_name(self, merge: GuestMerge) -> str:
        return merge.source_snapshot.get("full_name", "")

    @admin.display(description="moved")
    def moved_summary(self, merge: GuestMerge) -> str:
        return _moved_summary(merge.moved)


class GuestMergeInline(MergeColumns, ReadOnlyInline):
    model = GuestMerge
    fk_name = "target"
    verbose_name_plural = "duplicates merged into this profile"
    fields = ("merged_at", "merged_name", "source_guest_id", "moved_summary", "merged_by", "reason")
    readonly_fields = ("merged_name", "moved_summary")
    select_related = ("merged_by",)


def _moved_summary(moved: dict[str, int]) -> str:
    parts = []
    for label, count in sorted(moved.items()):
        try:
            meta = apps.get_model(label)._meta
        except (LookupError, ValueError):
            parts.append(f"{count} × {label}")
            continue
        parts.append(f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}")
    return ", ".join(parts) or "nothing besides the profile"


@admin.register(Guest)
class GuestAdmin(ServiceBackedAdmin):
    form = GuestAdminForm
    service_keeps_history = True
    list_display = (
        "name",
        "phone_display",
        "email",
        "language",
        "nationality",
        "vip_level",
        "loyalty_tier",
        "stay_count",
        "greylisted",
        "created_at",
    )
    list_filter = (
        "vip_level",
        "loyalty_tier",
        "language",
        NationalityFilter,
        GreylistedFilter,
        WarningFilter,
        "phone_valid",
        "email_verified",
        "source",
    )
    list_select_related = ("loyalty_tier",)
    search_fields = ("first_name", "last_name", "email", "phone", "loyalty_number")
    date_hierarchy = "created_at"
    ordering = ("last_name", "first_name", "pk")
    actions = ("merge_into_oldest",)
    readonly_fields = (
        "warning",
        "phone_display",
        "email_verified",
        "stay_count",
        "current_consent",
        "greylist_summary",
        "created_at",
        "updated_at",
    )
    inlines = (
        ConsentHistoryInline,
        GuestGreylistInline,
        BookerReservationInline,
        CompanionStayInline,
        GuestFacilityBookingInline,
        GuestMergeInline,
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Guest]:
        return super().get_queryset(request).annotate(is_greylisted=greylisted_expression())

    def get_fieldsets(self, request: HttpRequest, obj: Guest | None = None) -> list[Any]:
        contact: tuple[str, ...] = ("email", "phone")
        if obj is not None:
            contact = ("email", "email_verified", "phone", "phone_display")
        fieldsets: list[Any] = [
            ("Name", {"fields": ("first_name", "last_name")}),
            ("Contact", {"fields": contact}),
            ("Profile", {"fields": ("language", "nationality", "birth_date", "gender")}),
            (
                "Loyalty and account",
                {"fields": ("vip_level", "loyalty_tier", "loyalty_number", "outstanding_balance")},
            ),
            ("Notes", {"fields": ("notes", "preferences", "allergens", "warning_note")}),
        ]
        if obj is None:
            return [*fieldsets, ("Record", {"fields": ("source",)})]
        if obj.warning_note:
            fieldsets.insert(0, ("Warning", {"fields": ("warning",)}))
        return [
            *fieldsets,
            ("Consent and greylist", {"fields": ("current_consent", "greylist_summary")}),
            ("Record", {"fields": ("source", "stay_count", "created_at", "updated_at")}),
        ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Guest | None = None
    ) -> tuple[str, ...]:
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "source") if obj is not None else tuple(fields)

    def get_inlines(
        self, request: HttpRequest, obj: Guest | None
    ) -> tuple[type[admin.options.InlineModelAdmin], ...]:
        return self.inlines if obj is not None else ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Guest], search_term: str
    ) -> tuple[QuerySet[Guest], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = _phone_or_none(search_term.strip())
        if phone:
            results = results | queryset.filter(phone=phone)
        return results, may_have_duplicates

    def save_through_service(
        self, request: HttpRequest, obj: Guest, form: forms.ModelForm, change: bool
    ) -> Guest:
        data = form.cleaned_data
        profile = {field: data[field] for field in PROFILE_FIELDS if field in data}
        if change:
            contact = {
                field: data[field] for field in ("email", "phone") if field in form.changed_data
            }
            # A fresh copy: the form already wrote the new values onto ``obj``, and the service
            # must see the old e-mail to know whether the verified mark still holds.
            return services.guest_update(
                guest=Guest.objects.get(pk=obj.pk), user=_staff(request), **contact, **profile
            )
        first_name = profile.pop("first_name")
        return services.guest_create(
            first_name=first_name,
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            user=_staff(request),
            **profile,
        )

    @admin.display(description="name", ordering="last_name")
    def name(self, guest: Guest) -> str:
        return format_html("{}{}", guest.full_name, _warning_icon(guest))

    @admin.display(description="phone", ordering="phone")
    def phone_display(self, guest: Guest) -> str:
        if not guest.phone:
            return "—"
        if not guest.phone_valid:
            return format_html(
                '{} <strong style="color:#ba2121" title="Never dialled: fix the number">invalid</strong>',
                guest.phone,
            )
        return format_phone_international(guest.phone)

    @admin.display(description="greylisted", boolean=True)
    def greylisted(self, guest: Guest) -> bool:
        return bool(getattr(guest, "is_greylisted", False))

    @admin.display(description="warning")
    def warning(self, guest: Guest) -> str:
        return _warning_box(guest.warning_note) if guest.warning_note else "—"

    @admin.display(description="current consent")
    def current_consent(self, guest: Guest) -> str:
        record_url = reverse("admin:guests_consentrecord_add") + f"?guest={guest.pk}"
        add_link = format_html(
            '<a class="addlink" href="{}">Record a consent statement</a>', record_url
        )
        current = consent_current(guest)
        if not current:
            return format_html("No consent statement recorded. {}", add_link)
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td><strong style="color:{}">{}</strong></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    record.get_purpose_display(),
                    record.get_channel_display() or "all channels",
                    "#287d28" if record.granted else "#ba2121",
                    "granted" if record.granted else "withdrawn",
                    timezone.localtime(record.recorded_at).strftime("%d.%m.%Y %H:%M"),
                    record.get_source_display(),
                    record.wording_version or "—",
                )
                for _, record in sorted(current.items())
            ),
        )
        return format_html(
            "<table><thead><tr><th>Purpose</th><th>Channel</th><th>State</th><th>Since</th><th>How</th>"
            "<th>Wording</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            add_link,
        )

    @admin.display(description="greylist")
    def greylist_summary(self, guest: Guest) -> str:
        add_url = reverse("admin:guests_greylistentry_add") + f"?guest={guest.pk}"
        add_link = format_html('<a class="addlink" href="{}">Greylist this guest</a>', add_url)
        if getattr(guest, "is_greylisted", False):
            return format_html(
                '<strong style="color:#ba2121">Greylisted: no marketing messages.</strong> {}',
                add_link,
            )
        return format_html("Not greylisted. {}", add_link)

    @admin.action(
        description="Merge selected guests into the oldest profile",
        permissions=("change", "delete"),
    )
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[Guest]) -> None:
        guests = list(queryset.order_by("created_at", "pk"))
        if len(guests) < 2:
            messages.error(request, "Select at least two guests to merge.")
            return
        target, *duplicates = guests
        moved: Counter[str] = Counter()
        try:
            with transaction.atomic():
                for duplicate in duplicates:
                    merge = services.guest_merge(
                        source=duplicate,
                        target=target,
                        user=_staff(request),
                        reason="merged in the admin",
                    )
                    moved.update(merge.moved)
        except ValidationError as exc:
            messages.error(request, f"Nothing was merged: {error_text(exc)}")
            return
        names = ", ".join(f"{guest} (#{guest.pk})" for guest in duplicates)
        messages.success(
            request,
            f"Merged {names} into {target} (#{target.pk}); moved {_moved_summary(dict(moved))}.",
        )


# --- Greylist ----------------------------------------------------------------------------------


class GreylistEntryForm(forms.ModelForm):
    class Meta:
        model = GreylistEntry
        fields = ("guest", "reason", "expires_at")

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError("The expiry must be in the future.")
        return expires_at


class GreylistStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("lifted", "Lifted")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[GreylistEntry]
    ) -> QuerySet[GreylistEntry]:
        now = timezone.now()
        if self.value() == "active":
            return cast(GreylistQuerySet, queryset).active(now)
        if self.value() == "expired":
            return queryset.filter(lifted_at__isnull=True, expires_at__lte=now)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(GreylistEntry)
class GreylistEntryAdmin(GreylistColumns, ServiceBackedAdmin):
    form = GreylistEntryForm
    list_display = ("guest", *GREYLIST_COLUMNS[:-1])
    list_filter = (GreylistStateFilter, "created_at")
    list_select_related = ("guest", "created_by", "lifted_by")
    search_fields = ("guest__first_name", "guest__last_name", "guest__email", "reason")
    autocomplete_fields = ("guest",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("lift",)

    def get_fields(self, request: HttpRequest, obj: GreylistEntry | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("guest", "reason", "expires_at")
        return ("guest", *GREYLIST_COLUMNS)

    def get_readonly_fields(
        self, request: HttpRequest, obj: GreylistEntry | None = None
    ) -> tuple[str, ...]:
        return ("state",) if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # An entry is added and lifted, never edited.

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Lifting keeps the history; deleting would lose it.

    def has_lift_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("guests.change_greylistentry")

    def save_through_service(
        self, request: HttpRequest, obj: GreylistEntry, form: forms.ModelForm, change: bool
    ) -> GreylistEntry:
        data = form.cleaned_data
        return services.guest_greylist(
            guest=data["guest"],
            reason=data["reason"],
            expires_at=data.get("expires_at"),
            user=_staff(request),
        )

    @admin.action(description="Lift selected entries", permissions=("lift",))
    def lift(self, request: HttpRequest, queryset: QuerySet[GreylistEntry]) -> None:
        lifted = 0
        for entry in queryset.select_related("guest"):
            try:
                services.greylist_lift(
                    entry=entry, user=_staff(request), reason="lifted in the admin"
                )
            except ValidationError as exc:
                messages.error(request, f"{entry}: {error_text(exc)}")
            else:
                lifted += 1
        if lifted:
            messages.success(
                request, f"Lifted {lifted} greylist {'entry' if lifted == 1 else 'entries'}."
            )


# --- Merges ------------------------------------------------------------------------------------


@admin.register(GuestMerge)
class GuestMergeAdmin(MergeColumns, ReadOnlyAdmin):
    list_display = (
        "merged_at",
        "merged_name",
        "source_guest_id",
        "target",
        "moved_summary",
        "merged_by",
        "reason",
    )
    list_select_related = ("target", "merged_by")
    search_fields = ("target__first_name", "target__last_name", "reason")
    date_hierarchy = "merged_at"
    ordering = ("-merged_at",)
