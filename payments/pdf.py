"""A payment's receipt as an A4 PDF (fpdf2 core fonts, as the organisations'
invoices: see organisations/pdf.py for why)."""

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from bookings.models import Transaction
from config.pdf import ENCODING
from config.pdf import pdf_text as _text

from .receipts import receipt_facts, receipt_number


def render_receipt_pdf(payment: Transaction, *, payer: str) -> bytes:
    issuer = getattr(settings, "INVOICE_ISSUER", "") or settings.SITE_NAME
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(False)
    pdf.set_title(_text(f"Receipt {receipt_number(payment)}"))
    pdf.set_author(_text(issuer.split(",")[0]))
    pdf.set_creation_date(payment.created_at)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(width / 2, 10, "Receipt")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        width / 2,
        5,
        _text("\n".join(part.strip() for part in issuer.split(","))),
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    for label, value in receipt_facts(payment, payer=payer):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 7, _text(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(width - 45, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    when = timezone.localtime(payment.created_at)
    pdf.multi_cell(
        width,
        5,
        _text(f"Thank you. This payment was recorded on {when:%d %B %Y}."),
        new_x="LMARGIN",
    )
    return bytes(pdf.output())
