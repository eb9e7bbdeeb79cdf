"""The campaign list (seed 000: active and passive campaigns) and its row actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from campaigns.models import Campaign, CampaignRun, CampaignStep
from campaigns.services import campaign_duplicate, campaign_set_active
from crm_messaging.ui.once import Resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, next_url, paginate, refusal, search_param
from guests.models import ContactChannel

from .common import PAGE_SIZE, RunRow, run_rows, timing_label

STATES = {"active": True, "passive": False}


@dataclass(frozen=True)
class CampaignRow:
    """A campaign as the list shows it."""

    campaign: Campaign
    timing: str
    channels: list[str]
    last: RunRow | None


def campaign_rows(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Campaigns with their channels and the id of their last run."""
    last = CampaignRun.objects.filter(campaign=OuterRef("pk")).order_by("-started_at", "-pk")
    return queryset.annotate(last_run_id=Subquery(last.values("pk")[:1])).prefetch_related(
        Prefetch("steps", queryset=CampaignStep.objects.order_by("position", "pk"))
    )


class CampaignListView(StaffView, TemplateView):
    """Active and passive campaigns, searchable, each with its trigger, channels and last run."""

    permission_required = "campaigns.view_campaign"
    template_name = "campaigns/campaign_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        state = request.GET.get("state", "active")
        if state not in STATES:
            state = "active"
        query = search_param(request)
        campaigns = Campaign.objects.all()
        if query:
            campaigns = campaigns.filter(Q(name__icontains=query) | Q(description__icontains=query))
        tallies = campaigns.aggregate(
            active=Count("pk", filter=Q(is_active=True)),
            passive=Count("pk", filter=Q(is_active=False)),
        )
        listed = campaign_rows(campaigns.filter(is_active=STATES[state])).order_by("name", "pk")
        page = paginate(request, listed, PAGE_SIZE)
        on_page = list(page.object_list)
        last_run_of = {campaign.pk: campaign.last_run_id for campaign in on_page}  # type: ignore[attr-defined]
        last = {
            row.run.pk: row
            for row in run_rows(
                CampaignRun.objects.filter(pk__in=[pk for pk in last_run_of.values() if pk])
            )
        }
        channels = dict(ContactChannel.choices)
        rows = [
            CampaignRow(
                campaign=campaign,
                timing=timing_label(campaign),
                channels=[
                    str(channels.get(step.channel, step.channel)) for step in campaign.steps.all()
                ],
                last=last.get(last_run_of[campaign.pk]),
            )
            for campaign in on_page
        ]
        user = request.user
        context.update(
            state=state,
            query=query,
            tallies=tallies,
            page=page,
            rows=rows,
            can_add=user.has_perm("campaigns.add_campaign"),
            can_change=user.has_perm("campaigns.change_campaign"),
            can_view_runs=user.has_perm("campaigns.view_campaignrun"),
            can_approve=user.has_perm("campaigns.approve_send"),
            awaiting=(
                CampaignRun.objects.filter(state=CampaignRun.State.AWAITING_APPROVAL).count()
                if user.has_perm("campaigns.approve_send")
                else 0
            ),
            back=request.get_full_path(),
        )
        return context


class CampaignSetActiveView(StaffView, View):
    """POST: make a campaign active or passive."""

    permission_required = "campaigns.change_campaign"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        active = request.POST.get("active") == "1"
        campaign_set_active(campaigns=[campaign], active=active, user=request.user)
        if active:
            messages.success(request, _("“%(name)s” is active.") % {"name": campaign.name})
        else:
            messages.success(
                request,
                _("“%(name)s” is passive: it sends nothing until activated.")
                % {"name": campaign.name},
            )
        return redirect(next_url(request, reverse("campaigns:campaign-list")))


class CampaignDuplicateView(StaffView, View):
    """POST: copy a campaign with its filters, plan and messages, as a passive draft."""

    permission_required = "campaigns.add_campaign"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        original = get_object_or_404(Campaign, pk=pk)

        def landing(copy: Campaign) -> str:
            if request.user.has_perm("campaigns.change_campaign"):
                return reverse("campaigns:campaign-edit", args=[copy.pk])
            return next_url(request, reverse("campaigns:campaign-list") + "?state=passive")

        try:
            copy = submit_once(
                request,
                form=f"campaign-duplicate:{original.pk}",
                write=lambda: campaign_duplicate(original, user=request.user),
                landing=landing,
            )
        except Resubmitted as again:
            return again.response(request)
        except ValidationError as exc:  # the form has expired
            messages.error(request, refusal(exc))
            return redirect(next_url(request, reverse("campaigns:campaign-list")))
        messages.success(
            request,
            _("Copied “%(name)s”; the copy is passive until you activate it.")
            % {"name": original.name},
        )
        return HttpResponseRedirect(landing(copy))
