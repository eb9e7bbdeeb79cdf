"""Who a saved campaign reaches, each recipient's message, and operator sends (C9–C11)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View

from campaigns.models import Campaign, CampaignRun, Trigger
from campaigns.occurrences import Occurrence
from campaigns.services import campaign_send, needs_approval, preview
from campaigns.services.compose import record_parts
from campaigns.validation import campaign_validate
from channels_out.ledger import credits_text
from crm_messaging.i18n import reason_text
from crm_messaging.numbers import whole_number
from crm_messaging.ui.once import Resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal
from guests.models import ContactChannel

from .common import PAGE_SIZE, screen_target


class BadSelection(ValueError):
    """A picked recipient that is no record id: the send asks again, it never widens."""


def _record_ids(values: list[str]) -> list[int]:
    """The records picked for a send, or [] when none were (the whole audience). Raises
    BadSelection when any is not a record id, so a broken selection never means everyone."""
    ids = set()
    for value in values:
        pk = whole_number(value)
        if pk is None:
            raise BadSelection(value)
        ids.add(pk)
    return sorted(ids)


def _bad_selection(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    context = {
        "campaign": campaign,
        "bad_selection": True,
        "error": _(
            "The selected recipients could not be read, so nothing was sent. Pick them again "
            "in the audience list."
        ),
    }
    return render(request, "campaigns/campaign_send.html", context, status=400)


class CampaignAudienceView(StaffView, View):
    """The recipients of the next occurrence, page by page, to preview and pick for a send."""

    permission_required = "campaigns.view_campaign"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        target = screen_target(campaign)
        context: dict[str, Any] = {"campaign": campaign, "when": target.when}
        step = campaign.steps.order_by("position", "pk").first()
        channel = step.channel if step else ContactChannel.SMS
        try:
            records = target.records(campaign).order_by("pk")
            page = paginate(request, records, PAGE_SIZE)
            rows = []
            for record in page.object_list:
                guest = record_parts(campaign, record)[0]
                rows.append(
                    {
                        "id": record.pk,
                        "guest": guest,
                        "record": record,
                        "address": guest.email if channel == ContactChannel.EMAIL else guest.phone,
                    }
                )
        except Exception as exc:  # an incomplete campaign cannot list anyone yet: say why
            context["error"] = _("The audience cannot be listed yet: %(reason)s") % {"reason": exc}
        else:
            context.update(page=page, rows=rows)
        context.update(
            channel=ContactChannel(channel).label,
            can_send=(
                campaign.trigger == Trigger.OPERATOR
                and campaign.is_active
                and request.user.has_perm("campaigns.send_campaign")
            ),
        )
        return render(request, "campaigns/campaign_audience.html", context)


class RecipientMessageView(StaffView, View):
    """htmx: one recipient's message, rendered in his language (``preview`` with his record)."""

    permission_required = "campaigns.view_campaign"

    def get(self, request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        target = screen_target(campaign)
        try:
            result = preview(campaign, target.occurrence, limit=1, record_ids=[record_id])
        except ValidationError as exc:  # an unsendable campaign: say why, not a 500
            return render(request, "campaigns/_message.html", {"error": reason_text(exc)})
        return render(
            request,
            "campaigns/_message.html",
            {"row": result.rows[0] if result.rows else None, "estimate": result.estimate},
        )


class CampaignSendView(StaffView, View):
    """Send an operator campaign to all or to the selected recipients, after a confirmation with cost and balance."""

    permission_required = "campaigns.send_campaign"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            record_ids = _record_ids(request.GET.getlist("record"))
        except BadSelection:
            return _bad_selection(request, campaign)
        context: dict[str, Any] = {"campaign": campaign, "record_ids": record_ids}
        if campaign.trigger != Trigger.OPERATOR:
            context["error"] = _(
                "Only an operator campaign is sent by hand; this one sends itself."
            )
        elif not campaign.is_active:
            context["error"] = _("The campaign is passive; activate it first.")
        else:
            try:
                # What the send checks first: a campaign it would refuse is refused here, in words.
                campaign_validate(campaign)
                shown = preview(
                    campaign, Occurrence.operator(), limit=5, record_ids=record_ids or None
                )
            except ValidationError as exc:
                context["error"] = _("This campaign cannot be sent yet: %(reason)s") % {
                    "reason": reason_text(exc)
                }
            else:
                context.update(
                    estimate=shown.estimate,
                    needs_approval=needs_approval(shown.estimate),
                    sample=shown.rows,
                )
        return render(request, "campaigns/campaign_send.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            record_ids = _record_ids(request.POST.getlist("record"))
        except BadSelection:
            return _bad_selection(request, campaign)
        may_see_runs = request.user.has_perm("campaigns.view_campaignrun")

        def send() -> CampaignRun | ValidationError:
            try:
                return campaign_send(
                    campaign=campaign, user=request.user, record_ids=record_ids or None
                )
            except ValidationError as exc:
                # A refused send is kept as a run: the claim stays with it, and a second
                # click lands on the runs instead of asking again.
                return exc

        def landing(outcome: CampaignRun | ValidationError) -> str:
            if may_see_runs:
                return reverse("campaigns:campaign-runs", args=[campaign.pk])
            if isinstance(outcome, ValidationError):
                return reverse("campaigns:campaign-edit", args=[campaign.pk])
            return reverse("campaigns:campaign-list")

        try:
            outcome = submit_once(
                request, form=f"campaign-send:{campaign.pk}", write=send, landing=landing
            )
        except Resubmitted as again:
            return again.response(request)
        except ValidationError as exc:  # the form has expired
            messages.error(request, refusal(exc))
            return redirect(request.get_full_path())
        if isinstance(outcome, ValidationError):
            messages.error(request, refusal(outcome))
            return HttpResponseRedirect(landing(outcome))
        run = outcome
        summary = {
            "name": campaign.name,
            "n": run.estimated_recipients,
            "credits": credits_text(run.estimated_cost),
        }
        if run.state == CampaignRun.State.AWAITING_APPROVAL:
            messages.warning(
                request,
                _(
                    "“%(name)s”: %(n)s recipients, %(credits)s credits estimated — awaiting "
                    "approval by a second member of staff."
                )
                % summary,
            )
        else:
            messages.success(
                request,
                _("“%(name)s”: sending to %(n)s recipients (%(credits)s credits estimated).")
                % summary,
            )
        return HttpResponseRedirect(landing(run))
