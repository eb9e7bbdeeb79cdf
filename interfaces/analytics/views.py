"""Campaign analytics screens (E4): one campaign's figures, its CSV, the managers' dashboard.

The figures come from ``campaigns.analytics`` in a fixed number of queries; these views only
lay them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views import View

from campaigns.analytics import Figures, campaign_analytics, manager_dashboard
from campaigns.models import Campaign
from crm_messaging.ui.csv import csv_cell, csv_response
from crm_messaging.ui.screens import StaffView
from guests.models import ContactChannel

from .chart import booking_chart

CSV_FIGURES = (
    "recipients",
    "skipped",
    "sent",
    "delivered",
    "bounced",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
    "cost",
    "bookings",
    "revenue",
)


class CampaignAnalyticsView(StaffView, View):
    """A campaign's figures: totals, each run, each language, links, bookings over time."""

    permission_required = "campaigns.view_campaignrun"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        data = campaign_analytics(campaign)
        return render(
            request,
            "analytics/campaign.html",
            {
                "campaign": campaign,
                "data": data,
                "chart": booking_chart(data.bookings_by_day),
                "window_days": settings.ATTRIBUTION_WINDOW_DAYS,
            },
        )


class CampaignExportView(StaffView, View):
    """The campaign's figures per run and per language as CSV."""

    permission_required = "campaigns.view_campaignrun"

    def get(self, request: HttpRequest, pk: int) -> StreamingHttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        data = campaign_analytics(campaign)

        def line(kind: str, name: str, when: str, figures: Figures) -> list[str]:
            return [kind, csv_cell(name), when, *(str(getattr(figures, f)) for f in CSV_FIGURES)]

        def rows() -> Iterator[list[str]]:
            yield ["row", "name", "started", *CSV_FIGURES]
            yield line("campaign", campaign.name, "", data.total)
            for run, figures in data.runs:
                started = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
                yield line("run", f"#{run.pk} {run.get_trigger_display()}", started, figures)
            for language, figures in data.languages:
                yield line("language", language or "—", "", figures)

        stamp = timezone.localdate().isoformat()
        return csv_response(rows(), f"campaign-{campaign.pk}-analytics-{stamp}.csv")


class DashboardView(StaffView, View):
    """The managers' Monday page: the last 30 days by channel and by campaign."""

    permission_required = ("campaigns.view_campaignrun", "channels_out.view_creditorder")

    def get(self, request: HttpRequest) -> HttpResponse:
        dashboard = manager_dashboard(days=30)
        labels = dict(ContactChannel.choices)
        context: dict[str, Any] = {
            "dashboard": dashboard,
            "channels": [
                (labels.get(c, c), f, dashboard.opt_outs.get(c, 0)) for c, f in dashboard.channels
            ],
            "window_days": settings.ATTRIBUTION_WINDOW_DAYS,
        }
        return render(request, "analytics/dashboard.html", context)
