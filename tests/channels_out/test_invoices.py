"""Invoices you can send (K2): a credit order produces a PDF invoice (ReportLab) with the
issuer's, the buyer's and the hotel's details, number, date, credits, price and VAT; it is
e-mailed to the managers and listed and re-downloaded on the credits screen."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from pypdf import PdfReader

from channels_out.invoices import invoice_pdf
from channels_out.models import CreditOrder
from channels_out.services.credits import credit_order_cancel, credit_order_create
from guests.models import Hotel
from interfaces.staff.roles import sync_roles

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    """The PDF's text with every run of white space as one space (lines wrap in columns)."""
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )


@pytest.fixture
def hotel_details(db) -> Hotel:
    hotel = Hotel.load()
    hotel.name, hotel.address, hotel.email = (
        "Hotel Lykia Bay",
        "Kemer Yolu 12, Antalya",
        "info@lykiabay.example",
    )
    hotel.save()
    return hotel


@pytest.fixture
def staff(django_user_model) -> dict[str, Any]:
    sync_roles()
    users = {}
    for role in ("Manager", "Front desk", "Operator"):
        user = django_user_model.objects.create_user(
            role.lower().replace(" ", ""), email=f"{role.split()[0].lower()}@hotel.example"
        )
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    return users


def test_an_order_is_invoiced_with_vat_and_the_hotel_as_buyer(hotel_details, settings) -> None:
    settings.INVOICE_VAT_RATE = "20"
    order = credit_order_create(credits=1000)
    assert (order.amount, order.vat_rate, order.vat_amount, order.total) == (
        Decimal("100.00"),
        Decimal("20"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    assert (order.buyer_name, order.buyer_address, order.buyer_email) == (
        "Hotel Lykia Bay",
        "Kemer Yolu 12, Antalya",
        "info@lykiabay.example",
    )


def test_the_pdf_carries_number_date_parties_credits_price_and_vat(hotel_details, settings) -> None:
    settings.INVOICE_ISSUER_NAME = "Mesajlaşma Hizmetleri A.Ş."
    settings.INVOICE_ISSUER_TAX_ID = "Antalya VD 1234567890"
    order = credit_order_create(
        credits=250,
        buyer_name="Lykia Turizm İşletmeleri Ltd. Şti.",
        buyer_tax_id="Kemer VD 9876543210",
    )
    pdf = invoice_pdf(order)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    for expected in (
        f"Invoice {order.invoice_number}",
        "Mesajlaşma Hizmetleri A.Ş.",  # Turkish letters print (DejaVu Sans)
        "Tax ID: Antalya VD 1234567890",
        "Lykia Turizm İşletmeleri Ltd. Şti.",
        "Tax ID: Kemer VD 9876543210",
        "Hotel Lykia Bay",
        "Kemer Yolu 12, Antalya",
        "Messaging credits",
        "250",
        "25.00 EUR",
        "VAT 20 %",
        "5.00 EUR",
        "30.00 EUR",
        order.ordered_at.strftime("%Y"),
    ):
        assert expected in text, expected
    assert invoice_pdf(order) and _text(invoice_pdf(order)) == text  # the same document again


def test_the_mailed_invoice_is_in_the_hotels_staff_language(
    hotel_details, staff, settings, django_capture_on_commit_callbacks
) -> None:
    settings.LANGUAGE_CODE = "tr"
    settings.INVOICE_VAT_RATE = "20"
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        credit_order_create(credits=1250, user=staff["Manager"])  # ordered from English screens
    [(_name, content, _kind)] = mail.outbox[0].attachments
    text = _text(content)
    assert "Fatura" in text and "KDV %20" in text and "Toplam" in text
    assert "1.250" in text and "150,00 EUR" in text and "Invoice" not in text


def test_the_downloaded_invoice_is_in_the_readers_language(
    client, hotel_details, staff, settings
) -> None:
    settings.INVOICE_VAT_RATE = "18.5"
    order = credit_order_create(credits=12500)
    with translation.override("tr"):  # "4 Aralık 2026"
        issued = formats.date_format(timezone.localtime(order.ordered_at).date(), "DATE_FORMAT")
    client.force_login(staff["Manager"])
    url = reverse("channels_out:credit-invoice", args=[order.pk])
    client.cookies["django_language"] = "tr"
    turkish = _text(client.get(url).content)
    for expected in (
        f"Fatura {order.invoice_number}",
        "Düzenleyen",
        "Fatura tarihi",
        issued,
        "12.500",
        "1.250,00 EUR",
        "KDV %18,5",
        "231,25 EUR",
        "1.481,25 EUR",
    ):
        assert expected in turkish, expected
    assert "Invoice" not in turkish and "Bill to" not in turkish and "VAT" not in turkish

    client.cookies["django_language"] = "en"
    english = _text(client.get(url).content)
    for expected in ("Invoice date", "Bill to", "12,500", "1,250.00 EUR", "VAT 18.5 %"):
        assert expected in english, expected


def test_numbers_run_without_gaps_even_past_a_rollback_and_a_cancellation(db) -> None:
    first = credit_order_create(credits=10)
    with pytest.raises(RuntimeError), transaction.atomic():
        credit_order_create(credits=10)
        raise RuntimeError("the request failed after ordering")
    second = credit_order_create(credits=10)
    credit_order_cancel(order=second)
    third = credit_order_create(credits=10)
    numbers = [int(o.invoice_number.rsplit("-", 1)[1]) for o in (first, second, third)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert CreditOrder.objects.count() == 3


def test_the_invoice_is_mailed_to_the_managers_with_the_pdf(
    hotel_details, staff, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = credit_order_create(credits=100, user=staff["Manager"])
    [message] = mail.outbox
    assert message.to == ["manager@hotel.example"]
    assert order.invoice_number in message.subject
    [(name, content, kind)] = message.attachments
    assert (name, kind) == (f"invoice-{order.invoice_number}.pdf", "application/pdf")
    assert order.invoice_number in _text(content)


def test_a_rolled_back_order_mails_nothing(staff, django_capture_on_commit_callbacks) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        credit_order_create(credits=100)
        raise RuntimeError("rolled back")
    assert mail.outbox == []


# --- The credits screen -------------------------------------------------------------------------


def test_the_manager_lists_and_downloads_invoices(client, hotel_details, staff) -> None:
    order = credit_order_create(credits=100)
    client.force_login(staff["Manager"])
    url = reverse("channels_out:credit-invoice", args=[order.pk])
    page = client.get(reverse("channels_out:credits")).content.decode()
    assert url in page and "12.00 EUR" in page  # the total with VAT, as the PDF says

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="invoice-{order.invoice_number}.pdf"'
    )
    assert order.invoice_number in _text(response.content)


def test_others_cannot_download_invoices(client, staff) -> None:
    order = credit_order_create(credits=100)
    url = reverse("channels_out:credit-invoice", args=[order.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff["Front desk"])
    assert client.get(url).status_code == 403
    client.force_login(staff["Manager"])
    assert (
        client.get(reverse("channels_out:credit-invoice", args=[order.pk + 999])).status_code == 404
    )


def test_ordering_with_buyer_details_from_the_screen(client, hotel_details, staff) -> None:
    client.force_login(staff["Manager"])
    response = client.post(
        reverse("channels_out:credit-order-create"),
        {"credits": "500", "buyer_name": "Lykia Turizm", "buyer_tax_id": "Kemer VD 1"},
    )
    assert response.status_code == 302
    order = CreditOrder.objects.get()
    assert (order.buyer_name, order.buyer_tax_id, order.buyer_address) == (
        "Lykia Turizm",
        "Kemer VD 1",
        "Kemer Yolu 12, Antalya",
    )
