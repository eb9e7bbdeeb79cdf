"""Campaign analytics screens (E4): one campaign's figures, its CSV, the managers' dashboard.

The figures come from ``campaigns.analytics`` in a fixed number of queries; these views only
lay them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from campaigns.analytics import Figures, campaign_analytics, manager_dashboard
from campaigns.models import Campaign
from crm_messaging.ui.csv import csv_cell, csv_response, csv_time_header
from crm_messaging.ui.screens import StaffView
from guests.models import ContactChannel

from .chart import booking_chart

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The figure columns, in order: the field of ``Figures`` and its heading, for the screens'
# tables and the CSV alike, in the reader's language.
FIGURE_COLUMNS: tuple[tuple[str, StrOrPromise], ...] = (
    ("recipients", gettext_lazy("Recipients")),
    ("skipped", gettext_lazy("Skipped")),
    ("sent", gettext_lazy("Sent")),
    ("delivered", gettext_lazy("Delivered")),
    ("bounced", gettext_lazy("Bounced")),
    ("opened", gettext_lazy("Opened")),
    ("clicked", gettext_lazy("Clicked")),
    ("unsubscribed", gettext_lazy("Unsubscribed")),
    ("complained", gettext_lazy("Complained")),
    ("cost", gettext_lazy("Cost (credits)")),
    ("bookings", gettext_lazy("Bookings")),
    ("revenue", gettext_lazy("Revenue")),
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
                "figure_columns": FIGURE_COLUMNS,
            },
        )


class CampaignExportView(StaffView, View):
    """The campaign's figures per run and per language as CSV."""

    permission_required = "campaigns.view_campaignrun"

    def get(self, request: HttpRequest, pk: int) -> StreamingHttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        data = campaign_analytics(campaign)

        def line(kind: str, name: str, when: str, figures: Figures) -> list[str]:
            return [
                kind,
                csv_cell(name),
                when,
                *(str(getattr(figures, field)) for field, _label in FIGURE_COLUMNS),
            ]

        def rows() -> Iterator[list[str]]:
            yield [
                gettext("Row"),
                gettext("Name"),
                csv_time_header(gettext("Started")),
                *(str(label) for _field, label in FIGURE_COLUMNS),
            ]
            yield line(gettext("Campaign"), campaign.name, "", data.total)
            for run, figures in data.runs:
                started = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
                yield line(
                    gettext("Run"), f"#{run.pk} {run.get_trigger_display()}", started, figures
                )
            for language, figures in data.languages:
                yield line(gettext("Language"), language or "—", "", figures)

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
            "figure_columns": FIGURE_COLUMNS,
        }
        return render(request, "analytics/dashboard.html", context)
