"""Runs of a campaign with their live counts (C12), and the four-eyes approvals of large sends."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import View

from campaigns.models import Campaign, CampaignRun
from campaigns.occurrences import Occurrence
from campaigns.services import (
    campaign_run_approve,
    campaign_run_reject,
    preview,
    run_changed_since_asked,
)
from channels_out.selectors import credit_balance
from crm_messaging.i18n import reason_text
from crm_messaging.ui.screens import StaffView, next_url, paginate

from ..forms import ApprovalForm
from .common import PAGE_SIZE, RunRow, is_htmx, run_rows

LIVE_STATES = (CampaignRun.State.RUNNING, CampaignRun.State.AWAITING_APPROVAL)
SAMPLE_SIZE = 5


def runs_page(request: HttpRequest, runs: QuerySet[CampaignRun]) -> tuple[Any, list[RunRow]]:
    """A page of runs, each with its message counts (one query for the page)."""
    page = paginate(
        request, runs.select_related("campaign", "requested_by", "approved_by"), PAGE_SIZE
    )
    return page, run_rows(page.object_list)


class CampaignRunsView(StaffView, View):
    """Every run of one campaign; refreshes itself while a run is sending or waiting."""

    permission_required = "campaigns.view_campaignrun"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        page, rows = runs_page(request, campaign.runs.order_by("-started_at", "-pk"))
        context = {
            "campaign": campaign,
            "page": page,
            "rows": rows,
            "live": any(row.run.state in LIVE_STATES for row in rows),
            "can_approve": request.user.has_perm("campaigns.approve_send"),
        }
        template = "campaigns/_run_table.html" if is_htmx(request) else "campaigns/run_list.html"
        return render(request, template, context)


class ApprovalListView(StaffView, View):
    """Sends above the thresholds, waiting for a second member of staff (four-eyes)."""

    permission_required = "campaigns.approve_send"

    def get(self, request: HttpRequest) -> HttpResponse:
        waiting = CampaignRun.objects.filter(state=CampaignRun.State.AWAITING_APPROVAL).order_by(
            "started_at", "pk"
        )
        page, rows = runs_page(request, waiting)
        return render(
            request,
            "campaigns/approval_list.html",
            {"page": page, "rows": rows, "balance": credit_balance()},
        )


class RunSampleView(StaffView, View):
    """htmx: what approving a waiting send would send now — its recipients and credits, estimated
    as the run will send them, a few recipients with their messages — and the button that
    approves exactly that."""

    permission_required = "campaigns.approve_send"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(CampaignRun.objects.select_related("campaign"), pk=pk)
        context: dict[str, Any] = {"run": run, "edited": run_changed_since_asked(run)}
        try:
            shown = preview(
                run.campaign,
                Occurrence.operator(),
                limit=SAMPLE_SIZE,
                record_ids=run.selected_ids or None,
            )
        except Exception as exc:  # the campaign changed since: show why instead of failing the page
            context["error"] = reason_text(exc)
        else:
            cost = shown.estimate
            context.update(
                rows=shown.rows,
                estimate=cost,
                changed=(cost.recipients, cost.credits)
                != (run.estimated_recipients, run.estimated_cost),
                approval=ApprovalForm(
                    initial={
                        "recipients": cost.recipients,
                        "credits": cost.credits,
                        "version": run.campaign.updated_at.isoformat(),
                    },
                    auto_id=False,  # one form per waiting send on the page
                ),
            )
        return render(request, "campaigns/_run_sample.html", context)


class RunDecisionView(StaffView, View):
    """POST: approve (and launch) what the approver was shown, or reject a waiting send."""

    permission_required = "campaigns.approve_send"
    http_method_names = ["post"]
    approve = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(CampaignRun.objects.select_related("campaign"), pk=pk)
        try:
            if self.approve:
                shown = ApprovalForm(request.POST)
                if not shown.is_valid():
                    raise ValidationError(
                        _(
                            "Not approved: this approval did not say what it approves. Open the "
                            "approvals again and approve what they show."
                        )
                    )
                run = campaign_run_approve(run=run, user=request.user, seen=shown.seen())
            else:
                run = campaign_run_reject(
                    run=run, user=request.user, reason=request.POST.get("reason", "").strip()
                )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if self.approve:
                n = run.estimated_recipients
                messages.success(
                    request,
                    ngettext(
                        "Approved: “%(name)s” is sending to %(n)s recipient.",
                        "Approved: “%(name)s” is sending to %(n)s recipients.",
                        n,
                    )
                    % {"name": run.campaign.name, "n": n},
                )
            else:
                messages.success(
                    request, _("Rejected: “%(name)s” sends nothing.") % {"name": run.campaign.name}
                )
        return redirect(next_url(request, reverse("campaigns:approvals")))
