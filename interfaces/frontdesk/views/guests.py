"""Guest screens (G1, G5–G7): the guest list and one guest's page — profile, stays, consents,
greylist, duplicates and everything that passed between the hotel and the guest.

Every change goes through ``guests.services``, which records who made it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from channels_out.models import InboundMessage
from channels_out.selectors import guest_messages, suppressions_of
from channels_out.services import suppression_clear
from crm_messaging.i18n import lower_label
from crm_messaging.ui.once import Resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal
from guests.models import (
    ConsentPurpose,
    ConsentRecord,
    ContactChannel,
    GreylistEntry,
    Guest,
    Reservation,
    ReservationCompanion,
    ReservationStatusChange,
)
from guests.selectors import consent_current, greylisted_expression, guest_find_duplicates
from guests.services import (
    greylist_lift,
    guest_greylist,
    guest_record_consent,
    guest_update,
)

from ..forms import (
    ConsentForm,
    GreylistForm,
    GreylistLiftForm,
    GuestForm,
    GuestSearchForm,
    apply_service_errors,
)
from .common import PAGE_SIZE, guest_search, limit_param
from .messaging import HISTORY_DEFERRED, SendMessageMixin, SendTarget

TIMELINE_STEP = 20
STAYS_PER_PAGE = 10
# The rows of the consent table: data processing once, then each purpose per channel.
CONSENT_ROWS: list[tuple[str, str]] = [
    (ConsentPurpose.DATA_PROCESSING, ""),
    *((ConsentPurpose.SERVICE, c) for c in ContactChannel.values),
    *((ConsentPurpose.MARKETING, c) for c in ContactChannel.values),
    (ConsentPurpose.ANALYTICS, ""),
]

# What it means when the guest has said nothing for a row.
UNRECORDED: dict[str, Any] = {
    ConsentPurpose.DATA_PROCESSING: gettext_lazy("not recorded"),
    ConsentPurpose.SERVICE: gettext_lazy("not recorded — service messages go"),
    ConsentPurpose.MARKETING: gettext_lazy("not recorded — no marketing"),
    ConsentPurpose.ANALYTICS: gettext_lazy("not recorded — opens and clicks counted"),
}


class GuestListView(StaffView, TemplateView):
    """Guests found by name, phone or e-mail, 25 a page."""

    permission_required = "guests.view_guest"
    template_name = "guests/guest_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = GuestSearchForm(self.request.GET)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        rows = (
            Guest.objects.filter(guest_search(query))
            .select_related("loyalty_tier")
            .annotate(greylisted=greylisted_expression())
            .order_by("last_name", "first_name", "pk")
        )
        context.update(form=form, query=query, page=paginate(self.request, rows, PAGE_SIZE))
        return context


# --- The interaction history ------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    """One line of a guest's history: a message either way, a consent statement, a stay's move."""

    at: dt.datetime
    kind: str  # "sent", "received", "consent", "stay"
    item: Any


def guest_interactions(guest: Guest, *, limit: int, user: Any) -> tuple[list[Interaction], bool]:
    """The newest ``limit`` interactions with ``guest`` the user may see, newest first, and
    whether there are more. One query per kind, however long the history."""
    sources: list[tuple[str, QuerySet[Any], str]] = []
    if user.has_perm("channels_out.view_outboundmessage"):
        sources.append(("sent", guest_messages(guest).defer(*HISTORY_DEFERRED), "created_at"))
        # What the guest wrote back belongs to the same conversation.
        sources.append(("received", InboundMessage.objects.filter(guest=guest), "received_at"))
    if user.has_perm("guests.view_consentrecord"):
        sources.append(
            ("consent", guest.consent_records.select_related("recorded_by"), "recorded_at")
        )
    if user.has_perm("guests.view_reservation"):
        changes = ReservationStatusChange.objects.filter(
            Q(reservation__booker=guest)
            | Q(
                Exists(
                    ReservationCompanion.objects.filter(
                        reservation=OuterRef("reservation"), guest=guest
                    )
                )
            )
        ).select_related("reservation", "by")
        sources.append(("stay", changes, "at"))
    items = [
        Interaction(getattr(item, field), kind, item)
        for kind, queryset, field in sources
        for item in queryset.order_by(f"-{field}", "-pk")[: limit + 1]
    ]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit], len(items) > limit


# --- One guest --------------------------------------------------------------------------------


class GuestPage(SendMessageMixin, StaffView, TemplateView):
    """A guest's page: profile and warning, stays, consents, greylist, duplicates, history."""

    permission_required: str | tuple[str, ...] = "guests.view_guest"
    template_name = "guests/guest_detail.html"

    @cached_property
    def guest(self) -> Guest:
        return get_object_or_404(Guest.objects.select_related("loyalty_tier"), pk=self.kwargs["pk"])

    @property
    def page_url(self) -> str:
        return reverse("guests:guest-detail", args=[self.guest.pk])

    def send_target(self) -> SendTarget:
        return SendTarget(
            recipients=[self.guest],
            reservation=None,
            form_url=reverse("guests:guest-send-form", args=[self.guest.pk]),
            action_url=reverse("guests:guest-send", args=[self.guest.pk]),
        )

    def timeline_context(self) -> dict[str, Any]:
        limit = limit_param(self.request, "more", TIMELINE_STEP)
        items, more = guest_interactions(self.guest, limit=limit, user=self.request.user)
        return {
            "timeline": items,
            "timeline_limit": limit,
            "timeline_more": limit + TIMELINE_STEP if more else 0,
            "timeline_url": reverse("guests:guest-history", args=[self.guest.pk]),
            "can_view_reservations": self.request.user.has_perm("guests.view_reservation"),
        }

    def consent_context(self) -> dict[str, Any]:
        guest = self.guest
        current = consent_current(guest)
        prefetch_related_objects(list(current.values()), "recorded_by")
        history: dict[tuple[str, str], list[ConsentRecord]] = defaultdict(list)
        for record in guest.consent_records.select_related("recorded_by").order_by(
            "-recorded_at", "-pk"
        ):
            history[(record.purpose, record.channel)].append(record)
        rows = [
            {
                "purpose": ConsentPurpose(purpose).label,
                "channel": ContactChannel(channel).label if channel else _("every channel"),
                "record": current.get((purpose, channel)),
                "history": history.get((purpose, channel), []),
                "query": f"purpose={purpose}&channel={channel}",
                "unrecorded": UNRECORDED[purpose],
            }
            for purpose, channel in CONSENT_ROWS
        ]
        return {"consent_rows": rows}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        guest = self.guest
        user = self.request.user
        stays = (
            Reservation.objects.filter(
                Q(booker=guest)
                | Q(
                    Exists(
                        ReservationCompanion.objects.filter(reservation=OuterRef("pk"), guest=guest)
                    )
                )
            )
            .select_related("booker", "room_type")
            .order_by("-arrival", "-pk")
        )
        context.update(
            guest=guest,
            stays=paginate(self.request, stays, STAYS_PER_PAGE, param="stays"),
            can_edit=user.has_perm("guests.change_guest"),
            can_book=user.has_perm("guests.add_reservation"),
            **self.timeline_context(),
        )
        if user.has_perm("guests.view_consentrecord"):
            context.update(self.consent_context())
            if user.has_perm("guests.add_consentrecord"):
                wanted = {
                    k: self.request.GET[k] for k in ("purpose", "channel") if k in self.request.GET
                }
                context["consent_form"] = kwargs.get("consent_form") or ConsentForm(initial=wanted)
        if user.has_perm("guests.view_greylistentry"):
            entries = list(guest.greylist_entries.select_related("created_by", "lifted_by"))
            context.update(
                greylist_active=[e for e in entries if e.is_active()],
                greylist_past=[e for e in entries if not e.is_active()],
                can_greylist=user.has_perm("guests.add_greylistentry"),
                can_lift=user.has_perm("guests.change_greylistentry"),
                greylist_form=kwargs.get("greylist_form") or GreylistForm(),
            )
        context["greylisted"] = guest.greylist_entries.active().exists()
        if user.has_perm("channels_out.view_suppression"):
            suppressions = list(suppressions_of(guest.email))
            context.update(
                suppressions_active=[s for s in suppressions if s.in_force],
                suppressions_past=[s for s in suppressions if not s.in_force],
                can_clear_suppression=user.has_perm("channels_out.clear_suppression"),
                show_suppressions=bool(guest.email),
            )
        if user.has_perm("guests.add_guestmerge"):
            context["duplicates"] = list(
                guest_find_duplicates(guest).order_by("last_name", "first_name", "pk")[:10]
            )
        if user.has_perm("channels_out.send_one_off"):
            context.update(self.send_context(kwargs.get("send_form")))
        return context


class GuestDetailView(GuestPage):
    pass


class GuestHistoryView(GuestPage):
    """htmx: the interaction history again, with fresh statuses (polled every 5 s)."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        return render(request, "guests/_timeline.html", self.timeline_context())


class GuestSendView(GuestPage):
    permission_required = ("guests.view_guest", "channels_out.send_one_off")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.send()


class GuestSendFormView(GuestPage):
    permission_required = ("guests.view_guest", "channels_out.send_one_off")
    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        return self.redraw_send_form()


class GuestConsentView(GuestPage):
    """POST: record one consent statement with its source and the staff member (G6)."""

    permission_required = ("guests.view_guest", "guests.add_consentrecord")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ConsentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = submit_once(
                    request,
                    form=f"guest-consent:{self.guest.pk}",
                    write=lambda: guest_record_consent(
                        guest=self.guest,
                        purpose=data["purpose"],
                        channel=data["channel"],
                        granted=data["granted"],
                        source=data["source"],
                        wording_version=data["wording_version"],
                        note=data["note"],
                        user=request.user,
                    ),
                    landing=lambda _record: f"{self.page_url}#consents",
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                state = _("given") if record.granted else _("withdrawn")
                where = f" ({record.get_channel_display()})" if record.channel else ""
                messages.success(
                    request,
                    _("%(purpose)s%(where)s: consent %(state)s, as told via %(source)s.")
                    % {
                        "purpose": record.get_purpose_display(),
                        "where": where,
                        "state": state,
                        "source": lower_label(record.get_source_display()),
                    },
                )
                return HttpResponseRedirect(f"{self.page_url}#consents")
        messages.error(request, _("The consent was not recorded; please correct the errors below."))
        return self.render_to_response(self.get_context_data(consent_form=form))


class GuestGreylistView(GuestPage):
    """POST: greylist the guest (G7) — marketing stops, service messages still go."""

    permission_required = ("guests.view_guest", "guests.add_greylistentry")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = GreylistForm(request.POST)
        if form.is_valid():
            try:
                submit_once(
                    request,
                    form=f"guest-greylist:{self.guest.pk}",
                    write=lambda: guest_greylist(
                        guest=self.guest,
                        reason=form.cleaned_data["reason"],
                        expires_at=form.cleaned_data["expires_at"],
                        user=request.user,
                    ),
                    landing=lambda _entry: f"{self.page_url}#greylist",
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s is greylisted: no marketing messages.")
                    % {"name": self.guest.full_name},
                )
                return HttpResponseRedirect(f"{self.page_url}#greylist")
        messages.error(request, _("The guest was not greylisted; please correct the errors below."))
        return self.render_to_response(self.get_context_data(greylist_form=form))


class GreylistLiftView(GuestPage):
    """POST: end a greylist entry now."""

    permission_required = ("guests.view_guest", "guests.change_greylistentry")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, entry: int) -> HttpResponse:
        found = get_object_or_404(GreylistEntry, pk=entry, guest=self.guest)
        form = GreylistLiftForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            greylist_lift(entry=found, reason=reason, user=request.user)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(
                request, _("The greylist entry “%(reason)s” is lifted.") % {"reason": found.reason}
            )
        return HttpResponseRedirect(f"{self.page_url}#greylist")


class SuppressionClearView(GuestPage):
    """POST: e-mail may go to the guest's suppressed address again (E2)."""

    permission_required = ("guests.view_guest", "channels_out.clear_suppression")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, suppression: int) -> HttpResponse:
        found = get_object_or_404(suppressions_of(self.guest.email), pk=suppression)
        form = GreylistLiftForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            suppression_clear(suppression=found, reason=reason, user=request.user)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(
                request,
                _("E-mail to %(address)s is no longer suppressed.") % {"address": found.address},
            )
        return HttpResponseRedirect(f"{self.page_url}#suppression")


class GuestEditView(StaffView, TemplateView):
    """The profile form; contact details are normalised and checked by ``guest_update``."""

    permission_required = ("guests.view_guest", "guests.change_guest")
    template_name = "guests/guest_edit.html"

    @cached_property
    def guest(self) -> Guest:
        return get_object_or_404(Guest.objects.select_related("loyalty_tier"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            guest=self.guest,
            form=kwargs.get("form") or GuestForm(initial=GuestForm.initial_for(self.guest)),
        )
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        guest = self.guest
        form = GuestForm(request.POST, initial=GuestForm.initial_for(guest))
        if form.is_valid():
            data = dict(form.cleaned_data)
            email, phone = data.pop("email"), data.pop("phone")
            try:
                guest_update(guest=guest, email=email, phone=phone, user=request.user, **data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("%(name)s's profile is saved.") % {"name": guest.full_name}
                )
                return HttpResponseRedirect(reverse("guests:guest-detail", args=[guest.pk]))
        messages.error(request, _("The profile was not saved; please correct the errors below."))
        return self.render_to_response(self.get_context_data(form=form))
