"""Merging duplicate guests (G5): compare the two profiles, choose the one that stays, merge
through ``guest_merge`` (which moves everything and records who), go to the survivor."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from channels_out.models import OutboundMessage
from crm_messaging.ui.screens import StaffView, refusal
from guests.models import (
    ConsentRecord,
    FacilityBooking,
    GreylistEntry,
    Guest,
    Reservation,
    ReservationCompanion,
)
from guests.selectors import guest_find_duplicates
from guests.services import guest_merge

from ..forms import MergeForm


def _count(model: Any, field: str) -> Coalesce:
    rows = model._default_manager.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0)


def merge_summary(guests: list[Guest]) -> dict[int, Guest]:
    """The two profiles with how much hangs on each, in one query."""
    annotated = Guest.objects.filter(pk__in=[g.pk for g in guests]).annotate(
        n_booked=_count(Reservation, "booker"),
        n_companion=_count(ReservationCompanion, "guest"),
        n_messages=_count(OutboundMessage, "guest"),
        n_consents=_count(ConsentRecord, "guest"),
        n_greylist=_count(GreylistEntry, "guest"),
        n_facility=_count(FacilityBooking, "guest"),
    )
    return {g.pk: g for g in annotated}


class GuestMergeView(StaffView, TemplateView):
    """Confirm the merge of a detected duplicate, choosing which profile stays; then merge it
    through ``guest_merge`` and go to the survivor."""

    permission_required = ("guests.view_guest", "guests.add_guestmerge")
    template_name = "guests/guest_merge.html"

    @cached_property
    def pair(self) -> tuple[Guest, Guest]:
        guest = get_object_or_404(Guest, pk=self.kwargs["pk"])
        other = get_object_or_404(guest_find_duplicates(guest), pk=self.kwargs["other"])
        return guest, other

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        guest, other = self.pair
        summary = merge_summary([guest, other])
        keep = max((guest, other), key=lambda g: (g.stay_count, -g.created_at.timestamp(), -g.pk))
        context.update(
            guest=guest,
            other=other,
            profiles=[summary[guest.pk], summary[other.pk]],
            form=kwargs.get("form") or MergeForm(pair=self.pair, initial={"keep": str(keep.pk)}),
        )
        return context

    def post(self, request: HttpRequest, pk: int, other: int) -> HttpResponse:
        form = MergeForm(request.POST, pair=self.pair)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        first, second = self.pair
        target, source = (
            (first, second) if form.cleaned_data["keep"] == str(first.pk) else (second, first)
        )
        name, source_pk = source.full_name, source.pk
        try:
            guest_merge(
                source=source,
                target=target,
                user=request.user,
                reason=form.cleaned_data["reason"] or "merged on the front desk",
            )
        except ValidationError as exc:
            messages.error(request, refusal(exc))
            return HttpResponseRedirect(reverse("guests:guest-detail", args=[first.pk]))
        messages.success(
            request,
            _("%(source)s (profile #%(pk)s) is merged into this profile.")
            % {"source": name, "pk": source_pk},
        )
        return HttpResponseRedirect(reverse("guests:guest-detail", args=[target.pk]))
