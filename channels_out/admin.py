"""The Django admin of the sender layer: accounts, the send log, prices, credits, house rules.

The send log, delivery events, inbound messages, the balance and the ledger are records:
read-only here. Operator decisions on a message (it went out / send it again) and credit
orders (order, paid, cancelled) are admin actions that call ``channels_out.services``; a
refusal is shown as an error message next to the others' successes. Account secrets are
write-only (``ChannelAccountForm``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from crm_messaging.guests.admin.base import ReadOnlyAdmin, ReadOnlyInline

from .forms import SECRET_FIELDS, ChannelAccountForm, CreditOrderForm
from .models import (
    ChannelAccount,
    CreditBalance,
    CreditOrder,
    DeliveryEvent,
    InboundMessage,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    PriceRule,
)
from .selectors import credit_balance
from .services import message_mark_sent, message_resend
from .services.credits import credit_order_cancel, credit_order_create, credit_order_mark_paid

# --- Helpers -----------------------------------------------------------------------------------


def _text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _link(obj: models.Model | None, text: object = None) -> str:
    """A link to ``obj``'s admin page, or its plain text when it has none."""
    if obj is None or obj.pk is None:
        return "—"
    label = obj if text is None else text
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def _credits(value: Decimal) -> str:
    """Credits as staff read them: 1,250 or 12.50."""
    text = f"{value.quantize(Decimal('0.01')):,}"
    return text.removesuffix(".00")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _run_service(
    request: HttpRequest,
    queryset: QuerySet[Any],
    service: Callable[..., Any],
    *,
    argument: str,
    done: str,
    noun: str,
) -> None:
    """Call ``service`` for each selected row; report the successes and each refusal."""
    succeeded = 0
    for obj in queryset.order_by("pk"):
        try:
            service(**{argument: obj}, user=request.user)
        except ValidationError as exc:  # the service changed nothing for this row
            messages.error(request, f"{obj}: {_text(exc)}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, f"{_plural(succeeded, noun)} {done}.")


class BalanceOnTopMixin:
    """Show the credit balance above a changelist, and warn under the low-balance threshold (K5)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        balance = credit_balance()
        context = {
            "subtitle": (
                f"Balance: {_credits(balance.available)} credits available, "
                f"{_credits(balance.reserved)} reserved for queued messages"
            ),
            **(extra_context or {}),
        }
        # Only on the page that is shown: a POST redirects to a GET that would warn again.
        if request.method == "GET" and balance.is_low:
            messages.warning(
                request,
                f"Low balance: {_credits(balance.available)} credits left, under the warning "
                f"threshold of {_credits(balance.threshold)}. Order credits before automated "
                "sends stop.",
            )
        return super().changelist_view(request, context)  # type: ignore[misc]


# --- Channel accounts --------------------------------------------------------------------------


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    form = ChannelAccountForm
    list_display = (
        "name",
        "channel",
        "backend",
        "sender",
        "is_default",
        "is_active",
        "rate_per_second",
    )
    list_filter = ("channel", "backend", "is_active", "is_default")
    search_fields = ("name", "sender", "host", "username", "account_id")
    ordering = ("channel", "name")
    readonly_fields = ("created_at", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: ChannelAccount | None = None) -> list[Any]:
        secrets: list[str] = []
        for name in SECRET_FIELDS:
            secrets.append(name)
            if obj is not None and getattr(obj, name):
                secrets.append(f"clear_{name}")  # nothing to remove otherwise
        fieldsets: list[Any] = [
            (None, {"fields": ("name", "channel", "backend", "is_active", "is_default")}),
            (
                "Sender",
                {
                    "fields": ("sender", "sender_name"),
                    "description": "Who the guest sees the message come from.",
                },
            ),
            (
                "SMTP server",
                {
                    "fields": ("host", "port", "use_tls", "use_ssl", "username"),
                    "description": "E-mail accounts on the SMTP backend only. The password goes "
                    "under Secrets.",
                },
            ),
            (
                "HTTP provider",
                {
                    "fields": ("account_id", "api_base_url"),
                    "description": "SMS, WhatsApp and Viber providers (Twilio, Vonage).",
                },
            ),
            (
                "Secrets",
                {
                    "fields": tuple(secrets),
                    "description": "Write-only: a stored secret is never shown again.",
                },
            ),
            (
                "Behaviour and Viber",
                {
                    "fields": (
                        "timeout_seconds",
                        "rate_per_second",
                        "ttl_seconds",
                        "fallback_account",
                        "opt_out_hint",
                        "auto_reply",
                    )
                },
            ),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ("created_at", "updated_at")}))
        return fieldsets


# --- The send log ------------------------------------------------------------------------------


class DeliveryEventInline(ReadOnlyInline):
    model = DeliveryEvent
    fields = ("at", "status", "provider_status", "code", "description", "source", "applied", "by")
    show_change_link = False
    verbose_name_plural = "delivery events"

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeliveryEvent]:
        return super().get_queryset(request).select_related("by")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "channel",
        "to",
        "guest_name",
        "status",
        "skip_reason",
        "credits",
        "parts",
        "source",
        "sent_by",
    )
    list_filter = ("status", "channel", "purpose", "skip_reason", "source", "account", "created_at")
    list_select_related = ("guest", "sent_by")
    search_fields = (
        "to",
        "body",
        "provider_message_id",
        "guest__first_name",
        "guest__last_name",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    actions = ("mark_sent", "resend")
    inlines = (DeliveryEventInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status",
                    "reason",
                    "skip_reason",
                    "provider_code",
                    "provider_message_id",
                    "attempts",
                )
            },
        ),
        (
            "Message",
            {
                "fields": (
                    "channel",
                    "purpose",
                    "account",
                    "backend",
                    "to",
                    "guest",
                    "reservation",
                    "facility_booking",
                    "origin_link",
                    "source",
                    "sent_by",
                    "dedupe_key",
                )
            },
        ),
        (
            "Content",
            {
                "fields": (
                    "language",
                    "subject",
                    "body",
                    "html_body",
                    "template_id",
                    "template_variables",
                    "headers",
                )
            },
        ),
        ("Cost", {"fields": ("segments", "encoding", "country", "credits")}),
        (
            "Fallback and resend",
            {
                "fields": (
                    "fallback_for",
                    "fallback_link",
                    "resend_of",
                    "resent_as_link",
                    "fallback_plan",
                )
            },
        ),
        (
            "Times",
            {
                "fields": (
                    "created_at",
                    "not_before",
                    "expires_at",
                    "claimed_at",
                    "sent_at",
                    "delivered_at",
                    "finished_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = ("origin_link", "fallback_link", "resent_as_link")

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # The log is never edited; deciding an unknown outcome needs the right to change it.
        return request.user.has_perm("channels_out.change_outboundmessage")

    @admin.display(description="guest", ordering="guest__last_name")
    def guest_name(self, message: OutboundMessage) -> str:
        return _link(message.guest, message.guest.full_name) if message.guest else "—"

    @admin.display(description="parts")
    def parts(self, message: OutboundMessage) -> str:
        if not message.segments:
            return "—"
        return f"{message.segments} × {message.encoding}" if message.encoding else "1"

    @admin.display(description="caused by")
    def origin_link(self, message: OutboundMessage) -> str:
        return _link(message.origin) if message.origin_type_id else "—"

    @admin.display(description="falls back to")
    def fallback_link(self, message: OutboundMessage) -> str:
        return _link(OutboundMessage.objects.filter(fallback_for=message).first())

    @admin.display(description="resent as")
    def resent_as_link(self, message: OutboundMessage) -> str:
        return _link(OutboundMessage.objects.filter(resend_of=message).first())

    @admin.action(description="Mark unknown outcomes as sent", permissions=("operate",))
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        _run_service(
            request,
            queryset,
            message_mark_sent,
            argument="message",
            done="marked sent",
            noun="message",
        )

    @admin.action(description="Resend unknown outcomes", permissions=("operate",))
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        _run_service(
            request,
            queryset,
            message_resend,
            argument="message",
            done="queued again",
            noun="message",
        )


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "message_link",
        "status",
        "provider_status",
        "code",
        "source",
        "applied",
        "by",
    )
    list_filter = ("status", "source", "applied", "at")
    list_select_related = ("message", "by")
    search_fields = ("message__to", "message__provider_message_id", "code", "description")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")

    @admin.display(description="message", ordering="message_id")
    def message_link(self, event: DeliveryEvent) -> str:
        return _link(event.message)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "channel",
        "account",
        "from_number",
        "guest_name",
        "keyword",
        "excerpt",
    )
    list_filter = ("channel", "keyword", "account", "received_at")
    list_select_related = ("account", "guest")
    search_fields = (
        "from_number",
        "body",
        "provider_message_id",
        "guest__first_name",
        "guest__last_name",
    )
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-pk")

    @admin.display(description="guest", ordering="guest__last_name")
    def guest_name(self, inbound: InboundMessage) -> str:
        return _link(inbound.guest, inbound.guest.full_name) if inbound.guest else "—"

    @admin.display(description="text")
    def excerpt(self, inbound: InboundMessage) -> str:
        return Truncator(inbound.body).chars(60)


# --- Prices and credits ------------------------------------------------------------------------


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ("channel", "country", "credits_per_unit")
    list_filter = ("channel",)
    ordering = ("channel", "country")


@admin.register(CreditBalance)
class CreditBalanceAdmin(BalanceOnTopMixin, ReadOnlyAdmin):
    list_display = ("available", "reserved", "updated_at")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BalanceOnTopMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "amount",
        "available_delta",
        "reserved_delta",
        "available_after",
        "message_link",
        "order_link",
        "note",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    list_select_related = ("message", "order", "created_by")
    search_fields = ("idempotency_key", "note", "order__invoice_number", "message__to")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")

    @admin.display(description="message", ordering="message_id")
    def message_link(self, entry: LedgerEntry) -> str:
        return _link(entry.message)

    @admin.display(description="order", ordering="order_id")
    def order_link(self, entry: LedgerEntry) -> str:
        return _link(entry.order, entry.order.invoice_number) if entry.order else "—"


class _Refused(Exception):
    """A service refused a save the form had accepted; raised to roll the request back."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


@admin.register(CreditOrder)
class CreditOrderAdmin(BalanceOnTopMixin, admin.ModelAdmin):
    form = CreditOrderForm
    list_display = (
        "invoice_number",
        "credits",
        "invoice_amount",
        "status",
        "ordered_by",
        "ordered_at",
        "paid_by",
        "paid_at",
    )
    list_filter = ("status", "ordered_at", "paid_at")
    list_select_related = ("ordered_by", "paid_by")
    search_fields = ("invoice_number",)
    date_hierarchy = "ordered_at"
    ordering = ("-ordered_at", "-pk")
    actions = ("mark_paid", "cancel")

    def get_fields(self, request: HttpRequest, obj: CreditOrder | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("credits",)
        return (
            "invoice_number",
            "credits",
            "amount",
            "currency",
            "status",
            "ordered_at",
            "ordered_by",
            "paid_at",
            "paid_by",
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Orders only move through the actions below.

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # An issued invoice number stays on record.

    def has_payment_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("channels_out.mark_paid")

    def save_model(
        self, request: HttpRequest, obj: CreditOrder, form: forms.ModelForm, change: bool
    ) -> None:
        try:
            saved = credit_order_create(credits=form.cleaned_data["credits"], user=request.user)
        except ValidationError as exc:
            raise _Refused(exc) from exc
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db
        messages.info(
            request,
            f"Invoice {saved.invoice_number}: {saved.amount} {saved.currency} for "
            f"{_credits(saved.credits)} credits. Mark it paid when the payment arrives.",
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            messages.error(request, _text(refused.error))
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description="invoice amount", ordering="amount")
    def invoice_amount(self, order: CreditOrder) -> str:
        return f"{order.amount} {order.currency}"

    @admin.action(description="Mark selected invoices paid", permissions=("payment",))
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[CreditOrder]) -> None:
        # Paying twice adds nothing (the service adds an order's credits once); say so.
        already = list(queryset.filter(status=CreditOrder.Status.PAID).order_by("pk"))
        for order in already:
            messages.warning(request, f"{order.invoice_number} was already paid; nothing added.")
        _run_service(
            request,
            queryset.exclude(pk__in=[o.pk for o in already]),
            credit_order_mark_paid,
            argument="order",
            done="marked paid; credits added",
            noun="invoice",
        )

    @admin.action(description="Cancel selected invoices", permissions=("payment",))
    def cancel(self, request: HttpRequest, queryset: QuerySet[CreditOrder]) -> None:
        _run_service(
            request,
            queryset,
            credit_order_cancel,
            argument="order",
            done="cancelled",
            noun="invoice",
        )


# --- House rules -------------------------------------------------------------------------------


@admin.register(MessagingPolicy)
class MessagingPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "sms_notifications_enabled",
        "viber_first",
        "frequency_cap_count",
        "frequency_cap_days",
        "credits_per_eur",
        "low_balance_threshold",
    )
    fieldsets = (
        ("Switches", {"fields": ("sms_notifications_enabled", "viber_first")}),
        (
            "Quiet hours (guest's local time)",
            {
                "fields": (
                    ("quiet_start_service", "quiet_end_service"),
                    ("quiet_start_marketing", "quiet_end_marketing"),
                ),
                "description": "Messages due in the window wait for its end. Leave a pair "
                "empty for no quiet hours.",
            },
        ),
        ("Marketing frequency cap", {"fields": ("frequency_cap_count", "frequency_cap_days")}),
        ("Credits", {"fields": ("credits_per_eur", "low_balance_threshold")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not MessagingPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: MessagingPolicy, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.pk = 1  # MessagingPolicy.load() looks the row up by this id.
        super().save_model(request, obj, form, change)
