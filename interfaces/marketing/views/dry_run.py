"""The dry run (C9): who a campaign would have received on a past business date or hour, with
each recipient's rendered message. It composes and checks the messages as a send would
(``campaigns.services.preview``) and writes nothing: no run, no message, no credits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from campaigns.models import Campaign, Trigger
from campaigns.services import estimate, preview
from crm_messaging.i18n import reason_text
from crm_messaging.ui.screens import StaffView, paginate
from guests.models import Hotel

from .common import DryRunRefused, dry_run_target

DRY_RUN_PAGE = 20
HOURS = [(str(hour), f"{hour:02d}:00") for hour in range(24)]


class DryRunForm(forms.Form):
    """The moment to look back at: a business date, and the hour for an hourly campaign."""

    date = forms.DateField(
        label=gettext_lazy("Business date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    hour = forms.TypedChoiceField(
        label=gettext_lazy("Hour"), choices=HOURS, coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, hourly: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = Hotel.load().business_date
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if not hourly:
            del self.fields["hour"]
        else:
            self.fields["hour"].required = True


class DryRunView(StaffView, View):
    """GET ?date=YYYY-MM-DD[&hour=H]: who would have received the campaign then, and what."""

    permission_required = "campaigns.view_campaign"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        hourly = campaign.trigger == Trigger.HOURLY
        yesterday = Hotel.load().business_date - dt.timedelta(days=1)
        data = request.GET if "date" in request.GET else None
        form = DryRunForm(data, hourly=hourly, initial={"date": yesterday, "hour": "9"})
        context: dict[str, Any] = {"campaign": campaign, "form": form}
        if data is not None and form.is_valid():
            context.update(self.looked_back(request, campaign, form.cleaned_data))
        return render(request, "campaigns/campaign_dry_run.html", context)

    def looked_back(
        self, request: HttpRequest, campaign: Campaign, chosen: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            target = dry_run_target(campaign, chosen["date"], chosen.get("hour"))
            records = target.records(campaign).order_by("pk")
            page = paginate(request, records, DRY_RUN_PAGE)
            ids = [record.pk for record in page.object_list]
            rows = preview(campaign, target.occurrence, limit=len(ids), record_ids=ids).rows
            cost = estimate(campaign, target.occurrence, record_ids=target.record_ids(campaign))
        except DryRunRefused as exc:
            return {"error": str(exc)}
        except Exception as exc:  # an incomplete campaign cannot be looked at yet: say why
            return {"error": _("Cannot be shown: %(reason)s") % {"reason": reason_text(exc)}}
        return {"when": target.when, "page": page, "rows": rows, "estimate": cost, "done": True}
