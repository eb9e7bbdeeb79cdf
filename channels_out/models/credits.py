"""Prepaid credits (K1–K5): prices, orders, the balance guard and the append-only ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from crm_messaging.singletons import OneRowModel
from guests.models import ContactChannel

ZERO = Decimal("0")


class PriceRule(models.Model):
    """Credits per unit (SMS part or message) on a channel, for one destination country or all."""

    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    country = CountryField(blank=True, help_text="Empty: every country without a rule of its own.")
    credits_per_unit = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )

    class Meta:
        ordering = ("channel", "country")
        constraints = [
            models.UniqueConstraint(
                fields=("channel", "country"), name="one_price_per_channel_country"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.country or 'default'}: {self.credits_per_unit}"


class CreditBalance(OneRowModel):
    """The one balance row: the database refuses to let ``available`` go below zero.

    Every change goes with a ledger entry in the same transaction; the row is what makes
    concurrent reservations safe (a conditional UPDATE on it), the ledger is the history.
    """

    available = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    reserved = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)
    # Crossings told (K5): since when the balance is under the low-balance threshold, and
    # since when a reservation was refused for want of credits; None when not (any more).
    low_since = models.DateTimeField(null=True, blank=True)
    exhausted_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(available__gte=0), name="credit_available_never_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="credit_reserved_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.available} credits available, {self.reserved} reserved"


class LedgerEntry(models.Model):
    """One movement of credits; never changed. ``idempotency_key`` makes each movement happen once."""

    class Kind(models.TextChoices):
        # "Reservation" here holds credits, it is no hotel booking: a context keeps the words apart.
        PURCHASE = "purchase", pgettext_lazy("credit ledger", "Purchase")
        RESERVE = "reserve", pgettext_lazy("credit ledger", "Reservation")
        POST = "post", pgettext_lazy("credit ledger", "Debit (sent)")
        RELEASE = "release", pgettext_lazy("credit ledger", "Release")
        ADJUSTMENT = "adjustment", pgettext_lazy("credit ledger", "Adjustment")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    available_delta = models.DecimalField(max_digits=12, decimal_places=2)
    reserved_delta = models.DecimalField(max_digits=12, decimal_places=2)
    available_after = models.DecimalField(max_digits=14, decimal_places=2)
    idempotency_key = models.CharField(max_length=120, unique=True)
    message = models.ForeignKey(
        "channels_out.OutboundMessage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    order = models.ForeignKey(
        "channels_out.CreditOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=("kind", "created_at"), name="ledger_kind_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.idempotency_key})"


class CreditOrder(models.Model):
    """A purchase of credits (K2): ordered → invoiced → paid (credits added) or cancelled."""

    class Status(models.TextChoices):
        INVOICED = "invoiced", _("Invoiced, awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    credits = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("1"))]
    )
    amount = models.DecimalField("invoice amount", max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    invoice_number = models.CharField(max_length=30, unique=True)
    # The invoice's VAT, fixed when it is issued: ``amount`` is the net price.
    vat_rate = models.DecimalField("VAT rate (%)", max_digits=5, decimal_places=2, default=ZERO)
    vat_amount = models.DecimalField("VAT", max_digits=12, decimal_places=2, default=ZERO)
    # Who the invoice is made out to, as it was when issued (the hotel's details by default).
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_address = models.TextField(blank=True)
    buyer_tax_id = models.CharField("buyer's tax office and number", max_length=80, blank=True)
    buyer_email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVOICED)
    ordered_at = models.DateTimeField(default=timezone.now)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Not stored: set by ``credit_order_mark_paid`` on the order it returns — whether that call
    # paid it (False when it was paid already).
    paid_now: bool = False

    class Meta:
        ordering = ("-ordered_at",)
        permissions = [("mark_paid", "Can mark credit invoices paid")]

    def __str__(self) -> str:
        return f"{self.invoice_number}: {self.credits} credits ({self.get_status_display()})"

    @property
    def total(self) -> Decimal:
        """What the invoice asks for: the net amount plus VAT."""
        return self.amount + self.vat_amount


class MessagingPolicy(OneRowModel):
    """House rules for sending (seed 001 CRM switches, S9, K1, K5); one row."""

    sms_notifications_enabled = models.BooleanField(
        "automatic SMS notifications",
        default=True,
        help_text="Off: automatic (campaign) SMS are not sent.",
    )
    viber_first = models.BooleanField(
        "Viber first, then SMS", default=True, help_text="Off: Viber steps go straight to SMS."
    )
    quiet_start_service = models.TimeField(null=True, blank=True, default=dt.time(22, 0))
    quiet_end_service = models.TimeField(null=True, blank=True, default=dt.time(8, 0))
    quiet_start_marketing = models.TimeField(null=True, blank=True, default=dt.time(20, 0))
    quiet_end_marketing = models.TimeField(null=True, blank=True, default=dt.time(10, 0))
    frequency_cap_count = models.PositiveSmallIntegerField(
        default=2, help_text="At most this many marketing messages per guest …"
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        default=7, help_text="… in this many days (0: no cap)."
    )
    credits_per_eur = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("10"))
    low_balance_threshold = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("100")
    )
    track_service_email = models.BooleanField(
        "track opens and clicks of service e-mail",
        default=False,
        help_text="Marketing e-mail is tracked (where the guest did not refuse analytics); "
        "service e-mail only when this is on.",
    )
    soft_bounce_limit = models.PositiveSmallIntegerField(
        "soft bounces before suppression",
        default=3,
        validators=[MinValueValidator(1)],
        help_text="An address whose e-mails soft-bounce this many times in a row is suppressed.",
    )

    class Meta:
        verbose_name = "messaging policy"
        verbose_name_plural = "messaging policy"

    def __str__(self) -> str:
        return "Messaging policy"
