"""The staff home page ("Today")."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from campaigns.models import CampaignRun
from channels_out.models import OutboundMessage, Status
from channels_out.selectors import credit_balance
from crm_messaging.ui.screens import next_url
from guests.models import Reservation
from guests.selectors import hotel_business_date

from .context import CREDITS_PERMISSION, DISMISSED_ALERTS


class HomeView(LoginRequiredMixin, TemplateView):
    """Today at a glance, with links to each role's work."""

    template_name = "staff/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = hotel_business_date()
        stays = Reservation.objects
        context.update(
            business_date=today,
            arrivals=stays.filter(arrival=today, status=Reservation.Status.CONFIRMED).count(),
            in_house=stays.filter(status=Reservation.Status.CHECKED_IN).count(),
            departures=stays.filter(departure=today, status=Reservation.Status.CHECKED_IN).count(),
        )
        user = self.request.user
        if user.has_perm("channels_out.view_outboundmessage"):
            context["unknown_outcomes"] = OutboundMessage.objects.filter(
                status=Status.UNKNOWN
            ).count()
            context["failed_today"] = OutboundMessage.objects.filter(
                status__in=[Status.FAILED, Status.UNDELIVERED], created_at__date=today
            ).count()
        if user.has_perm("channels_out.view_creditorder") or user.has_perm(
            "campaigns.send_campaign"
        ):
            context["balance"] = credit_balance()
        if user.has_perm("campaigns.approve_send"):
            context["awaiting_approval"] = CampaignRun.objects.filter(
                state=CampaignRun.State.AWAITING_APPROVAL
            ).count()
        return context


class CreditAlertDismissView(PermissionRequiredMixin, View):
    """Hide one balance crossing from this session's header (POST ``key``); the next one shows."""

    permission_required = CREDITS_PERMISSION
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        key = request.POST.get("key", "")[:80]
        dismissed = request.session.get(DISMISSED_ALERTS, [])
        if key and key not in dismissed:
            request.session[DISMISSED_ALERTS] = [*dismissed[-9:], key]
        return HttpResponseRedirect(next_url(request, reverse("staff:home")))
