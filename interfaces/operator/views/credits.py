"""Credits for the manager (K1–K5): the balance and its warning, buying credits, paying and
cancelling invoices, and the period report with its spend chart."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views import View

from channels_out.forms import CreditOrderForm
from channels_out.invoices import invoice_filename, invoice_pdf
from channels_out.models import CreditOrder
from channels_out.selectors import credit_balance, credit_report
from channels_out.services.credits import (
    credit_order_cancel,
    credit_order_create,
    credit_order_mark_paid,
)
from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal

from .chart import spend_chart
from .log import DateInput

ORDERS_PER_PAGE = 20
LONGEST_REPORT_DAYS = 3 * 366


def this_month() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


class ReportForm(forms.Form):
    """The report's period (GET); the current month unless chosen."""

    start = forms.DateField(label=_("From"), widget=DateInput())
    end = forms.DateField(label=_("To"), widget=DateInput())

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days >= LONGEST_REPORT_DAYS:
                self.add_error("end", _("Choose a period of at most three years."))
        return cleaned


def credits_context(
    request: HttpRequest, *, buy_form: CreditOrderForm | None = None
) -> dict[str, Any]:
    """Everything the credits page shows."""
    user = request.user
    start, end = this_month()
    if "start" in request.GET or "end" in request.GET:
        report_form = ReportForm(request.GET)
    else:
        report_form = ReportForm(initial={"start": start, "end": end})
    report = chart = None
    if not report_form.is_bound or report_form.is_valid():
        if report_form.is_bound:
            start, end = report_form.cleaned_data["start"], report_form.cleaned_data["end"]
        report = credit_report(start=start, end=end)
        chart = spend_chart(report.daily, start=start, end=end)
    can_buy = user.has_perm("channels_out.add_creditorder")
    orders = CreditOrder.objects.select_related("ordered_by", "paid_by").order_by(
        "-ordered_at", "-pk"
    )
    return {
        "balance": credit_balance(),
        "can_buy": can_buy,
        "buy_form": buy_form or (CreditOrderForm() if can_buy else None),
        "can_pay": user.has_perm("channels_out.mark_paid"),
        "can_cancel": user.has_perm("channels_out.change_creditorder"),
        "orders": paginate(request, orders, ORDERS_PER_PAGE, param="orders_page"),
        "report_form": report_form,
        "report": report,
        "chart": chart,
        "report_tables": [
            (_("By channel"), _("Channel"), report.by_channel),
            (_("By campaign"), _("Campaign"), report.by_campaign),
            (_("By staff member"), _("Staff member"), report.by_staff),
        ]
        if report
        else [],
        "invoiced": CreditOrder.Status.INVOICED,
    }


def _number(value: Decimal, places: int) -> str:
    """An amount in the reader's language, as the page's tables show it: 1.000 / 100,00 in Turkish."""
    return number_format(value, decimal_pos=places, force_grouping=True)


class CreditsView(StaffView, View):
    """GET: the credits page."""

    permission_required = "channels_out.view_creditorder"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "channels_out/credits.html", credits_context(request))


class CreditOrderCreateView(StaffView, View):
    """POST: order credits; the service issues the invoice (number, amount)."""

    permission_required = "channels_out.add_creditorder"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if again := resubmitted(request, form="credit-order"):
            return again.response(request)
        form = CreditOrderForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            orders = reverse("channels_out:credits") + "#orders"
            try:
                order = submit_once(
                    request,
                    form="credit-order",
                    write=lambda: credit_order_create(
                        credits=data["credits"],
                        user=request.user,
                        buyer_name=data["buyer_name"],
                        buyer_tax_id=data["buyer_tax_id"],
                        buyer_address=data["buyer_address"],
                        buyer_email=data["buyer_email"],
                    ),
                    landing=lambda _order: orders,
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                form.add_error(
                    "credits" if "credits" in getattr(exc, "error_dict", {}) else None, exc
                )
            else:
                messages.success(
                    request,
                    _(
                        "Invoice %(number)s issued: %(amount)s %(currency)s for %(credits)s credits "
                        "(%(total)s %(currency)s with VAT), sent to the managers with an e-mail address. "
                        "Mark it paid when the payment arrives."
                    )
                    % {
                        "number": order.invoice_number,
                        "amount": _number(order.amount, 2),
                        "total": _number(order.total, 2),
                        "currency": order.currency,
                        "credits": _number(order.credits, 0),
                    },
                )
                return HttpResponseRedirect(orders)
        return render(request, "channels_out/credits.html", credits_context(request, buy_form=form))


class _OrderAction(StaffView, View):
    http_method_names = ["post"]

    def act(self, order: CreditOrder) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = get_object_or_404(CreditOrder, pk=pk)
        try:
            done = self.act(order)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        else:
            if done:
                messages.success(request, done)
        return HttpResponseRedirect(reverse("channels_out:credits") + "#orders")


class CreditOrderMarkPaidView(_OrderAction):
    """POST: the invoice is paid; its credits are added once (a second POST adds nothing)."""

    permission_required = "channels_out.mark_paid"

    def act(self, order: CreditOrder) -> str:
        paid = credit_order_mark_paid(order=order, user=self.request.user)
        if not paid.paid_now:  # of two clicks at once, exactly one paid it
            messages.warning(
                self.request,
                _("%(number)s was already paid; nothing added.") % {"number": paid.invoice_number},
            )
            return ""
        return str(
            _("%(number)s marked paid; %(credits)s credits added.")
            % {"number": paid.invoice_number, "credits": _number(paid.credits, 0)}
        )


class CreditOrderCancelView(_OrderAction):
    """POST: cancel an unpaid invoice."""

    permission_required = "channels_out.change_creditorder"

    def act(self, order: CreditOrder) -> str:
        if order.status == CreditOrder.Status.CANCELLED:
            return ""
        cancelled = credit_order_cancel(order=order, user=self.request.user)
        return str(_("%(number)s cancelled.") % {"number": cancelled.invoice_number})


class CreditInvoiceView(StaffView, View):
    """GET: the invoice of an order as a PDF (a download; the same document every time)."""

    permission_required = "channels_out.view_creditorder"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = get_object_or_404(CreditOrder, pk=pk)
        response = HttpResponse(invoice_pdf(order), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice_filename(order)}"'
        response["Cache-Control"] = "private, no-store"
        return response
