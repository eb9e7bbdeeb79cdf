"""House rules for campaigns (C2, C3, C11): the daily clock, the check-in time, the approval
thresholds, the hotel's survey link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_messaging.singletons import OneRowModel

from ..survey import validate_survey_url


class CampaignSettings(OneRowModel):
    """House rules for campaigns; one row."""

    daily_fallback_time = models.TimeField(
        default=dt.time(9, 0),
        help_text="Daily campaigns run at this time when no night audit has run that day.",
    )
    arrival_time = models.TimeField(
        default=dt.time(14, 0),
        help_text="Check-in time: “N hours before arrival” counts back from it.",
    )
    approval_cost_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("500"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Operator sends costing more credits need a manager's approval.",
    )
    approval_recipient_threshold = models.PositiveIntegerField(
        default=1000, help_text="Operator sends to more recipients need a manager's approval."
    )
    survey_url = models.CharField(
        _("survey link"),
        max_length=500,
        blank=True,
        help_text=_(
            "The address @SURVEY links to in every campaign that names none, e.g. "
            "https://survey.example.com/s/4Hq?booking={resno}&lang={language}."
        ),
        validators=[validate_survey_url],
    )

    class Meta:
        verbose_name = verbose_name_plural = "campaign settings"

    def __str__(self) -> str:
        return "Campaign settings"
