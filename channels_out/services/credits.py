"""Buying and adjusting credits (K2, K5)."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.handoff import hand_off_on_commit
from guests.models import Hotel

from ..invoices import invoice_filename, invoice_pdf
from ..ledger import InsufficientCredits, credits_add, credits_remove
from ..models import CreditOrder, LedgerEntry, MessagingPolicy
from .alerts import manager_addresses
from .status import messages_resume_after_topup

logger = logging.getLogger(__name__)

MAX_ORDER_CREDITS = Decimal("1000000")
CENT = Decimal("0.01")


def credit_invoice_send(*, order: CreditOrder) -> int:
    """E-mail ``order``'s invoice (PDF attached) to the managers, in the hotel's staff language
    (``LANGUAGE_CODE``); return how many were addressed.

    Raises what the mail connection raises (the task retries).
    """
    recipients = manager_addresses()
    if not recipients:
        logger.warning("Invoice %s: no manager has an e-mail address to send it to.", order.pk)
        return 0
    context = {
        "order": order,
        "url": urljoin(settings.PUBLIC_BASE_URL, reverse("channels_out:credits")),
    }
    # Sent to every manager, whose languages are not known: in the hotel's staff language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("channels_out/mail/invoice_subject.txt", context)
        body = render_to_string("channels_out/mail/invoice.txt", context)
        pdf = invoice_pdf(order)
    mail = EmailMessage(" ".join(subject.split()), body, to=recipients)
    mail.attach(invoice_filename(order), pdf, "application/pdf")
    mail.send(fail_silently=False)
    return len(recipients)


def _next_invoice_number() -> str:
    year = timezone.localdate().year
    prefix = f"CR-{year}-"
    last = (
        CreditOrder.objects.filter(invoice_number__startswith=prefix)
        .order_by("-invoice_number")
        .values_list("invoice_number", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def credit_order_create(
    *,
    credits: Decimal | int | str,
    user: Actor = None,
    buyer_name: str = "",
    buyer_address: str = "",
    buyer_tax_id: str = "",
    buyer_email: str = "",
) -> CreditOrder:
    """Order credits: issue an invoice at the house price (default 1 EUR = 10 credits) plus
    ``INVOICE_VAT_RATE`` VAT, kept in the order's history with the staff member who ordered it;
    on commit the invoice (PDF) is e-mailed to the managers.

    The invoice is made out to the buyer given, else to the hotel (its name, address and
    e-mail as they are now). Numbers run without gaps per year (``CR-2026-00001`` …): a
    number is taken only by an order that is committed, and cancelled orders keep theirs.
    Raises ValidationError for a quantity that is not a positive whole number of credits.
    """
    try:
        quantity = Decimal(str(credits))
    except ArithmeticError as exc:
        raise ValidationError(
            {"credits": gettext("“%(credits)s” is not a number of credits.") % {"credits": credits}}
        ) from exc
    if quantity != quantity.to_integral_value() or quantity < 1:
        raise ValidationError({"credits": gettext("Order a whole, positive number of credits.")})
    if quantity > MAX_ORDER_CREDITS:
        raise ValidationError(
            {
                "credits": gettext("Order at most %(limit)s credits at once.")
                % {"limit": f"{MAX_ORDER_CREDITS:,}"}
            }
        )
    rate = MessagingPolicy.load().credits_per_eur
    amount = (quantity / rate).quantize(CENT, rounding=ROUND_HALF_UP)
    vat_rate = Decimal(settings.INVOICE_VAT_RATE)
    hotel = Hotel.load()
    for _ in range(5):
        try:
            with transaction.atomic():
                order = CreditOrder.objects.create(
                    credits=quantity,
                    amount=amount,
                    vat_rate=vat_rate,
                    vat_amount=(amount * vat_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP),
                    buyer_name=(buyer_name or hotel.name).strip()[:200],
                    buyer_address=(buyer_address or hotel.address).strip(),
                    buyer_tax_id=buyer_tax_id.strip()[:80],
                    buyer_email=(buyer_email or hotel.email).strip(),
                    invoice_number=_next_invoice_number(),
                    ordered_by=acting_user(user),
                )
                hand_off_on_commit("channels_out.credit_invoice_mail", order.pk)
                record_staff_action(
                    user,
                    order,
                    f"Ordered {quantity:,.0f} credits: invoice {order.invoice_number}.",
                    added=True,
                )
                return order
        except IntegrityError:
            continue  # two orders took the same number at once; take the next
    raise RuntimeError("could not allocate an invoice number")


@transaction.atomic
def credit_order_mark_paid(*, order: CreditOrder, user: Actor = None) -> CreditOrder:
    """Record the invoice as paid and add its credits, once, kept in the order's history with
    the staff member; then resume messages held for credits.

    Raises ValidationError for a cancelled order. Marking a paid order paid again changes
    nothing; ``order.paid_now`` says whether this call paid it (of two clicks at once, exactly
    one did: the row is locked).
    """
    locked = CreditOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status == CreditOrder.Status.CANCELLED:
        raise ValidationError(
            gettext("Invoice %(invoice)s was cancelled; it cannot be paid.")
            % {"invoice": locked.invoice_number}
        )
    if locked.status == CreditOrder.Status.PAID:
        locked.paid_now = False
        return locked
    locked.status, locked.paid_at, locked.paid_by = (
        CreditOrder.Status.PAID,
        timezone.now(),
        acting_user(user),
    )
    locked.save(update_fields=["status", "paid_at", "paid_by"])
    credits_add(
        amount=locked.credits,
        key=f"order:{locked.pk}",
        order=locked,
        created_by=acting_user(user),
        note=f"invoice {locked.invoice_number}",
    )
    record_staff_action(
        user, locked, f"Marked paid; {locked.credits:,.0f} credits added ({locked.invoice_number})."
    )
    transaction.on_commit(messages_resume_after_topup)
    order.refresh_from_db()
    locked.paid_now = True
    return locked


@transaction.atomic
def credit_order_cancel(*, order: CreditOrder, user: Actor = None) -> CreditOrder:
    """Cancel an unpaid order, kept in its history with the staff member. Raises
    ValidationError for a paid one; cancelling again changes nothing."""
    locked = CreditOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status == CreditOrder.Status.PAID:
        raise ValidationError(
            gettext("Invoice %(invoice)s is paid; it cannot be cancelled.")
            % {"invoice": locked.invoice_number}
        )
    if locked.status == CreditOrder.Status.CANCELLED:
        return locked  # a second click changes nothing, not even who cancelled it
    locked.status, locked.cancelled_at, locked.cancelled_by = (
        CreditOrder.Status.CANCELLED,
        timezone.now(),
        acting_user(user),
    )
    locked.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    record_staff_action(user, locked, f"Cancelled ({locked.invoice_number}).")
    order.refresh_from_db()
    return locked


@transaction.atomic
def credits_adjust(*, amount: Decimal, note: str, key: str, user: Actor = None) -> LedgerEntry:
    """A manager's correction: add (positive) or remove (negative) credits, once per ``key``.

    Raises ValidationError without a note, for zero, or when a removal exceeds the balance.
    """
    if not note.strip():
        raise ValidationError({"note": "Say why the balance is adjusted."})
    if amount == 0:
        raise ValidationError({"amount": "An adjustment cannot be zero."})
    fields = {"note": note[:255], "created_by": acting_user(user)}
    if amount > 0:
        entry = credits_add(amount=amount, key=key, kind=LedgerEntry.Kind.ADJUSTMENT, **fields)
        transaction.on_commit(messages_resume_after_topup)
        return entry
    try:
        return credits_remove(amount=-amount, key=key, **fields)
    except InsufficientCredits as exc:
        raise ValidationError({"amount": f"Cannot remove that much: {exc}."}) from exc
