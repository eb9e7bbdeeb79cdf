"""Settings → CRM (seed 001): the notification switches and the house rules for sending, in one
form for the manager.

The values live in three single-row models owned by three apps: ``MessagingPolicy``
(sender layer), ``Hotel`` (CRM core) and ``CampaignSettings`` (campaign engine); the staff
shell's service ``settings_save`` (``services.py``) writes them together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from campaigns.models import CampaignSettings
from campaigns.survey import validate_survey_url
from channels_out.models import MessagingPolicy
from crm_messaging.ui.screens import StaffView
from guests.models import Hotel

from .services import CAMPAIGN_FIELDS, HOTEL_FIELDS, POLICY_FIELDS, settings_save

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def _time(
    label: StrOrPromise, *, required: bool = False, help_text: StrOrPromise = ""
) -> forms.TimeField:
    return forms.TimeField(label=label, required=required, widget=TimeInput(), help_text=help_text)


class SettingsForm(forms.Form):
    """Every house rule of the screen; each error goes next to the field it concerns."""

    # Seed 001, Settings → CRM.
    sms_notifications_enabled = forms.BooleanField(
        label=_("SMS notifications"),
        required=False,
        help_text=_(
            "Send automatic SMS notifications: when a reservation is made or changes status, "
            "before arrival and so on. Off: no automatic SMS goes — neither the SMS steps of "
            "triggered, daily, hourly or scheduled campaigns nor the SMS a Viber message falls "
            "back to; those messages are logged as skipped (Viber itself still goes). Messages "
            "staff send by hand (front desk, operator sends) still go."
        ),
    )
    send_notifications_default = forms.BooleanField(
        label=_("Send SMS on new reservations"),
        required=False,
        help_text=_(
            "Every new reservation starts with “send notifications by e-mail and SMS” switched on."
        ),
    )
    viber_first = forms.BooleanField(
        label=_("SMS + Viber"),
        required=False,
        help_text=_(
            "Send by Viber first; when the number has no Viber account, send an SMS instead, "
            "automatically. Off: the SMS goes straight away, without trying Viber."
        ),
    )
    # S9, quiet hours in the guest's local time.
    quiet_start_service = _time(_("Service messages: quiet from"))
    quiet_end_service = _time(_("Service messages: quiet until"))
    quiet_start_marketing = _time(_("Marketing messages: quiet from"))
    quiet_end_marketing = _time(_("Marketing messages: quiet until"))
    frequency_cap_count = forms.IntegerField(
        label=_("At most this many marketing messages per guest"), min_value=0, max_value=1000
    )
    frequency_cap_days = forms.IntegerField(
        label=_("… in this many days"), min_value=0, max_value=365, help_text=_("0: no cap.")
    )
    # K1, K5.
    low_balance_threshold = forms.DecimalField(
        label=_("Low-balance warning under (credits)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
    )
    credits_per_eur = forms.DecimalField(
        label=_("Credits per euro"),
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        help_text=_("The price of new credit orders (1 EUR = 10 credits by default)."),
    )
    # C11 approval and the campaign clock.
    approval_cost_threshold = forms.DecimalField(
        label=_("Approval needed above (credits)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text=_("Operator sends costing more need a manager's approval."),
    )
    approval_recipient_threshold = forms.IntegerField(
        label=_("Approval needed above (recipients)"),
        min_value=0,
        max_value=2_147_483_647,
        help_text=_("Operator sends to more recipients need a manager's approval."),
    )
    daily_fallback_time = _time(
        _("Daily campaigns without a night audit run at"),
        required=True,
        help_text=_("When no night audit has run that day."),
    )
    arrival_time = _time(
        _("Check-in time"),
        required=True,
        help_text=_("“N hours before arrival” counts back from it."),
    )
    survey_url = forms.CharField(
        label=_("Survey link"),
        required=False,
        max_length=500,
        validators=[validate_survey_url],
        help_text=_(
            "The address @SURVEY links to in campaigns that name none, e.g. "
            "https://survey.example.com/s/4Hq?booking={resno}&lang={language}. Empty: no survey link."
        ),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for purpose in ("service", "marketing"):
            start, end = f"quiet_start_{purpose}", f"quiet_end_{purpose}"
            if start in self.errors or end in self.errors:
                continue
            has_start, has_end = cleaned.get(start) is not None, cleaned.get(end) is not None
            if has_start and not has_end:
                self.add_error(end, _("Give the end of the quiet hours too, or leave both empty."))
            elif has_end and not has_start:
                self.add_error(
                    start, _("Give the start of the quiet hours too, or leave both empty.")
                )
            elif has_start and cleaned[start] == cleaned[end]:
                self.add_error(
                    end, _("The quiet hours end when they start; leave both empty for none.")
                )
        if cleaned.get("frequency_cap_days") and cleaned.get("frequency_cap_count") == 0:
            self.add_error(
                "frequency_cap_count",
                _("A cap of 0 messages would stop all marketing; set the days to 0 for no cap."),
            )
        return cleaned

    @classmethod
    def initial_values(cls) -> dict[str, Any]:
        rows = (
            (MessagingPolicy.load(), POLICY_FIELDS),
            (Hotel.load(), HOTEL_FIELDS),
            (CampaignSettings.load(), CAMPAIGN_FIELDS),
        )
        return {name: getattr(row, name) for row, names in rows for name in names}


class SettingsView(StaffView, FormView):
    """Settings → CRM, for the manager."""

    permission_required = "channels_out.change_messagingpolicy"
    template_name = "staff/settings.html"
    form_class = SettingsForm

    def get_initial(self) -> dict[str, Any]:
        return SettingsForm.initial_values()

    def form_valid(self, form: SettingsForm) -> HttpResponse:
        changed = settings_save(values=form.cleaned_data, user=self.request.user)
        if changed:
            messages.success(self.request, _("Settings saved."))
        else:
            messages.info(self.request, _("Nothing changed."))
        return HttpResponseRedirect(reverse("staff:settings"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["sections"] = [
            (
                _("CRM notifications"),
                "",
                [
                    form[n]
                    for n in (
                        "sms_notifications_enabled",
                        "send_notifications_default",
                        "viber_first",
                    )
                ],
            ),
            (
                _("Quiet hours"),
                _(
                    "In the guest's local time. Messages due in the window wait for its end. "
                    "Leave both times empty for no quiet hours."
                ),
                [
                    form[n]
                    for n in (
                        "quiet_start_service",
                        "quiet_end_service",
                        "quiet_start_marketing",
                        "quiet_end_marketing",
                    )
                ],
            ),
            (
                _("Marketing frequency cap"),
                "",
                [form["frequency_cap_count"], form["frequency_cap_days"]],
            ),
            (_("Credits"), "", [form["low_balance_threshold"], form["credits_per_eur"]]),
            (_("Campaigns"), "", [form[n] for n in CAMPAIGN_FIELDS]),
        ]
        return context
