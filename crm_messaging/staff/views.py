"""The staff home page ("Today") and what every staff screen shares."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpRequest
from django.views.generic import TemplateView

from crm_messaging.guests.models import Reservation
from crm_messaging.guests.selectors import hotel_business_date


class StaffView(LoginRequiredMixin, PermissionRequiredMixin):
    """A staff screen: anonymous users go to the login page; signed-in users without the
    permission get 403 (a front-desk user cannot open the campaign editor)."""

    raise_exception = False
    request: HttpRequest

    def handle_no_permission(self) -> Any:
        if self.request.user.is_authenticated:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(
                f"You need the “{', '.join(self.get_permission_required())}” permission."
            )
        return super().handle_no_permission()


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
            from channels_out.models import OutboundMessage, Status

            context["unknown_outcomes"] = OutboundMessage.objects.filter(
                status=Status.UNKNOWN
            ).count()
            context["failed_today"] = OutboundMessage.objects.filter(
                status__in=[Status.FAILED, Status.UNDELIVERED], created_at__date=today
            ).count()
        if user.has_perm("channels_out.view_creditorder") or user.has_perm(
            "campaigns.send_campaign"
        ):
            from channels_out.selectors import credit_balance

            context["balance"] = credit_balance()
        if user.has_perm("campaigns.approve_send"):
            from campaigns.models import CampaignRun

            context["awaiting_approval"] = CampaignRun.objects.filter(
                state=CampaignRun.State.AWAITING_APPROVAL
            ).count()
        return context
