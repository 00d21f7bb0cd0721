"""An invoice or credit note as a one-or-more-page A4 PDF, drawn on the server
with fpdf2 (pure Python: no browser, no system library). The same facts as
the printable page, from the same rows.

Text goes through config.pdf.pdf_text (fpdf2's built-in fonts cover
Windows-1252 only).
Pages are not compressed: an invoice is a few kilobytes either way, and the
numbers stay searchable in the file.
"""

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from config.pdf import ENCODING, money, pdf_text

from .models import Invoice


def render_invoice_pdf(
    invoice: Invoice,
    *,
    issuer: str | None = None,
    bank: dict[str, str] | None = None,
    payment_reference: str = "",
) -> bytes:
    issuer = issuer or getattr(settings, "INVOICE_ISSUER", "") or settings.SITE_NAME
    title = invoice.get_kind_display()
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(False)
    pdf.set_title(pdf_text(f"{title} {invoice.number}"))
    pdf.set_author(pdf_text(issuer.split(",")[0]))
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(width / 2, 10, pdf_text(title))
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        width / 2,
        5,
        pdf_text("\n".join(part.strip() for part in issuer.split(","))),
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)

    facts = [
        ("Number", invoice.number),
        ("Date", f"{timezone.localtime(invoice.issued_at):%d %B %Y}"),
        ("Billed to", invoice.organisation_name),
        (
            "Period",
            f"{invoice.period_start:%d %B %Y} to {invoice.period_end:%d %B %Y}",
        ),
    ]
    if invoice.purchase_order:
        facts.append(("Purchase order", invoice.purchase_order))
    if invoice.credits_invoice_id:
        facts.append(("Credits invoice", invoice.credits_invoice.number))
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(40, 6, pdf_text(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(width - 40, 6, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    lines = list(invoice.lines.all())
    show_po = any(
        line.purchase_order and line.purchase_order != invoice.purchase_order
        for line in lines
    )
    pdf.set_font("Helvetica", "", 9)
    headings = ["Description", "Attendee"]
    widths = [78, 44]
    if show_po:
        headings.append("PO")
        widths.append(24)
    headings.append("Amount")
    widths.append(width - sum(widths))
    with pdf.table(
        col_widths=widths,
        text_align=["LEFT"] * (len(headings) - 1) + ["RIGHT"],
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        table.row([pdf_text(h) for h in headings])
        for line in lines:
            cells = [line.description, line.attendee_name or "-"]
            if show_po:
                cells.append(
                    line.purchase_order
                    if line.purchase_order != invoice.purchase_order
                    else ""
                )
            cells.append(money(line.amount))
            table.row([pdf_text(c) for c in cells])
    pdf.ln(4)

    totals = [
        ("Net", invoice.net_total),
        (f"VAT at {invoice.vat_rate.normalize():f}%", invoice.vat_amount),
        ("Credit total" if invoice.is_credit_note else "Total due", invoice.total),
    ]
    for label, amount in totals:
        pdf.set_font("Helvetica", "B" if label.startswith(("Total", "Credit")) else "")
        pdf.cell(width - 40, 6, pdf_text(label), align="R")
        pdf.cell(
            40, 6, pdf_text(money(amount)), align="R", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    if invoice.vat_rate == 0:
        pdf.multi_cell(width, 5, pdf_text("No VAT is charged."), new_x="LMARGIN")
    if invoice.is_credit_note:
        note = "This credit note reduces the amount your organisation owes."
    else:
        days = getattr(settings, "INVOICE_PAYMENT_DAYS", 30)
        note = (
            f"Please pay within {days} days, quoting {invoice.number}"
            + (
                f" and purchase order {invoice.purchase_order}"
                if invoice.purchase_order
                else ""
            )
            + "."
        )
    pdf.multi_cell(width, 5, pdf_text(note), new_x="LMARGIN")
    if bank and payment_reference and not invoice.is_credit_note:
        pdf.multi_cell(
            width,
            5,
            pdf_text(
                f"Pay by bank transfer to {bank['account_name']}, sort code "
                f"{bank['sort_code']}, account {bank['account_number']}, with the "
                f"reference {payment_reference}."
            ),
            new_x="LMARGIN",
        )
    return bytes(pdf.output())
