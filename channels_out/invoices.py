"""The invoice of a credit order as a PDF (K2), drawn with ReportLab.

The document is made from what the order recorded when it was issued (number, date,
credits, net price, VAT rate and amount, the buyer's details), so every download of it is
the same invoice; the issuer comes from the ``INVOICE_ISSUER_*`` settings. It is worded,
with its date and numbers, in the active language — the staff member's who downloads it; the
e-mailed copy in the hotel's staff language (``LANGUAGE_CODE``) — with DejaVu Sans (vendored in
``fonts/``) so Turkish letters print.
"""

from __future__ import annotations

import io
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from guests.models import Hotel

from .ledger import credits_text
from .models import CreditOrder

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, FONTS / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONTS / "DejaVuSans-Bold.ttf"))


def _money(value: Decimal, currency: str) -> str:
    """An amount of money as the active language writes it: 1,234.50 EUR / 1.234,50 EUR."""
    return f"{formats.number_format(value, decimal_pos=2, force_grouping=True)} {currency}"


def _lines(*parts: str) -> str:
    return "<br/>".join(escape(p) for p in parts if p)


def invoice_filename(order: CreditOrder) -> str:
    return f"invoice-{order.invoice_number}.pdf"


def invoice_pdf(order: CreditOrder) -> bytes:
    """Return the PDF of ``order``'s invoice, in the active language."""
    _register_fonts()
    hotel = Hotel.load()
    text = ParagraphStyle("text", fontName=REGULAR, fontSize=9.5, leading=13)
    heading = ParagraphStyle("heading", parent=text, fontName=BOLD, fontSize=16, leading=20)
    label = ParagraphStyle("label", parent=text, fontName=BOLD)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Invoice %(number)s") % {"number": order.invoice_number},
        author=settings.INVOICE_ISSUER_NAME,
    )
    issued = timezone.localtime(order.ordered_at).date()
    parties = Table(
        [
            [
                Paragraph(_("Issued by"), label),
                Paragraph(_("Bill to"), label),
                Paragraph(_("Hotel"), label),
            ],
            [
                Paragraph(
                    _lines(
                        settings.INVOICE_ISSUER_NAME,
                        settings.INVOICE_ISSUER_ADDRESS,
                        settings.INVOICE_ISSUER_TAX_ID
                        and _("Tax ID: %(id)s") % {"id": settings.INVOICE_ISSUER_TAX_ID},
                    ),
                    text,
                ),
                Paragraph(
                    _lines(
                        order.buyer_name,
                        order.buyer_address,
                        order.buyer_tax_id and _("Tax ID: %(id)s") % {"id": order.buyer_tax_id},
                        order.buyer_email,
                    ),
                    text,
                ),
                Paragraph(_lines(hotel.name, hotel.address, hotel.phone, hotel.email), text),
            ],
        ],
        colWidths=[58 * mm] * 3,
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    facts = Table(
        [
            [_("Invoice number"), order.invoice_number],
            [_("Invoice date"), formats.date_format(issued, "DATE_FORMAT")],
        ],
        colWidths=[40 * mm, 60 * mm],
    )
    facts.setStyle(
        TableStyle([("FONTNAME", (0, 0), (0, -1), BOLD), ("FONTNAME", (1, 0), (1, -1), REGULAR)])
    )
    vat_label = _("VAT %(rate)s %%") % {"rate": formats.number_format(order.vat_rate.normalize())}
    lines = Table(
        [
            [_("Description"), _("Quantity"), _("Amount")],
            [
                _("Messaging credits"),
                credits_text(order.credits),
                _money(order.amount, order.currency),
            ],
            ["", _("Net"), _money(order.amount, order.currency)],
            ["", vat_label, _money(order.vat_amount, order.currency)],
            ["", _("Total"), _money(order.total, order.currency)],
        ],
        colWidths=[90 * mm, 40 * mm, 44 * mm],
    )
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("FONTNAME", (0, 0), (-1, 0), BOLD),
                ("FONTNAME", (0, -1), (-1, -1), BOLD),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEABOVE", (1, 2), (-1, 2), 0.4, colors.grey),
                ("LINEABOVE", (1, -1), (-1, -1), 0.6, colors.black),
            ]
        )
    )
    document.build(
        [
            Paragraph(_("Invoice %(number)s") % {"number": order.invoice_number}, heading),
            Spacer(1, 6 * mm),
            parties,
            Spacer(1, 6 * mm),
            facts,
            Spacer(1, 8 * mm),
            lines,
            Spacer(1, 8 * mm),
            Paragraph(
                escape(_("The credits are added to the balance when this invoice is paid.")),
                text,
            ),
        ]
    )
    return buffer.getvalue()
