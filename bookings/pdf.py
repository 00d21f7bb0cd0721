"""A certificate of attendance as an A4 PDF (fpdf2 core fonts, as the
organisations' invoices and payments' receipts: see organisations/pdf.py)."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF

from config.pdf import ENCODING
from config.pdf import pdf_text as _text

from .models import Booking


def certificate_facts(booking: Booking) -> list[tuple[str, str]]:
    course = booking.session.course
    hours = f"{course.cpd_hours.normalize():f}" if course.cpd_hours else ""
    return [
        ("Course", course.title),
        ("Provider", course.provider.name),
        ("Date", f"{timezone.localtime(booking.session.starts_at):%-d %B %Y}"),
        ("CPD", f"{hours} hour{'' if hours == '1' else 's'}" if hours else ""),
        ("Verification code", booking.certificate_code),
    ]


def verify_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse(
        "bookings:certificate_verify", args=[booking.certificate_code]
    )


def render_certificate_pdf(booking: Booking) -> bytes:
    person = booking.person
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(False)
    pdf.set_title(_text(f"Certificate of attendance: {booking.session.course.title}"))
    pdf.set_author(_text(settings.SITE_NAME))
    pdf.set_margins(22, 26, 22)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Helvetica", "B", 24)
    pdf.cell(
        width, 14, "Certificate of attendance", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(
        width, 8, "This is to certify that", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(
        width,
        12,
        _text(person.get_full_name() or person.email),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(width, 8, "attended", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    for label, value in certificate_facts(booking):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(50, 8, _text(label))
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(width - 50, 8, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        width,
        5,
        _text(f"Issued by {settings.SITE_NAME}. Anyone can check this certificate at "),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(width, 5, _text(verify_url(booking)), new_x="LMARGIN")
    return bytes(pdf.output())


def render_sign_in_sheet_pdf(session, places: list[Booking]) -> bytes:
    """One row per place: name, workplace, and an empty box to sign."""
    course = session.course
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(False)
    pdf.set_title(_text(f"Sign-in sheet: {course.title}"))
    pdf.set_author(_text(settings.SITE_NAME))
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    width = pdf.epw
    starts = timezone.localtime(session.starts_at)
    ends = timezone.localtime(session.ends_at)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(width, 8, _text(course.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    where = (
        "Online" if session.is_online else (session.venue or "Venue to be confirmed")
    )
    pdf.multi_cell(
        width,
        6,
        _text(f"{starts:%A %-d %B %Y}, {starts:%H:%M} to {ends:%H:%M}. {where}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    columns = (("Name", 0.38), ("Workplace", 0.34), ("Signature", 0.28))
    pdf.set_font("Helvetica", "B", 10)
    for label, share in columns:
        pdf.cell(width * share, 8, label, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for booking in places:
        person = booking.person
        profile = getattr(person, "profile", None)
        workplace = (
            profile.organisation.name if profile and profile.organisation else ""
        )
        pdf.cell(
            width * 0.38,
            10,
            _text(person.get_full_name() or person.email)[:48],
            border=1,
        )
        pdf.cell(width * 0.34, 10, _text(workplace)[:44], border=1)
        pdf.cell(width * 0.28, 10, "", border=1)
        pdf.ln()
    if not places:
        pdf.cell(width, 10, "No one has a place.", border=1)
    return bytes(pdf.output())
