"""Text for PDFs drawn with fpdf2's built-in fonts (organisations' invoices,
payments' receipts).

Those fonts cover Windows-1252 only, so text outside it (a name in another
script) is reduced to its closest Latin letters rather than failing."""

import unicodedata
from decimal import Decimal

ENCODING = "windows-1252"
# Letters that have no decomposition into a Latin letter plus accents.
_FALLBACK = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "\u0131": "i"}
)


def pdf_text(text: str) -> str:
    out = []
    for char in str(text).translate(_FALLBACK):
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char)
            char = "".join(c for c in plain if c.isascii()) or "?"
        out.append(char)
    return "".join(out)


def money(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"
