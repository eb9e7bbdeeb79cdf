"""Prices, the balance, the ledger (read-only) and credit orders (order, paid, cancelled as actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from crm_messaging.ui.admin import ReadOnlyAdmin, ServiceBackedAdmin, admin_link

from ..forms import CreditOrderForm
from ..ledger import credits_text
from ..models import (
    CreditBalance,
    CreditOrder,
    LedgerEntry,
    PriceRule,
)
from ..services.credits import credit_order_cancel, credit_order_create, credit_order_mark_paid
from .common import BalanceOnTopMixin, _run_service


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
        return admin_link(entry.message)

    @admin.display(description="order", ordering="order_id")
    def order_link(self, entry: LedgerEntry) -> str:
        return admin_link(entry.order, entry.order.invoice_number) if entry.order else "—"


@admin.register(CreditOrder)
class CreditOrderAdmin(BalanceOnTopMixin, ServiceBackedAdmin):
    form = CreditOrderForm
    service_keeps_history = True
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
            "cancelled_at",
            "cancelled_by",
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Orders only move through the actions below.

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # An issued invoice number stays on record.

    def has_payment_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("channels_out.mark_paid")

    def save_through_service(
        self, request: HttpRequest, obj: CreditOrder, form: forms.ModelForm, change: bool
    ) -> CreditOrder:
        return credit_order_create(credits=form.cleaned_data["credits"], user=request.user)

    def save_model(
        self, request: HttpRequest, obj: CreditOrder, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        messages.info(
            request,
            f"Invoice {obj.invoice_number}: {obj.amount} {obj.currency} for "
            f"{credits_text(obj.credits)} credits. Mark it paid when the payment arrives.",
        )

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
