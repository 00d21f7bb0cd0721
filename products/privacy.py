"""What the products app holds about a person: the services they bought, for
themselves or for an organisation's account.

Purchases are under the finance legal hold, like the ledger rows they
produced: erasure keeps every purchase, with its product, quantity, amounts
and dates, against the anonymised account, so it no longer says who bought
it. Nothing on a purchase is written by the buyer. The charge and credit rows
are declared by bookings (`transactions`)."""

from privacy.registry import Category, not_personal, register

from .models import Product, Purchase

FINANCE_HOLD = (
    "Finance: accounting law requires records of what we sold to be kept for "
    "six years, so purchases are kept, with what was bought, when and for how "
    "much; they no longer name you once your account is anonymised."
)


def export_purchases(person) -> list[dict]:
    return [
        {
            "bought_at": p.created_at,
            "product": p.product.name,
            "quantity": p.quantity,
            "price_each": p.unit_price,
            "total": p.total,
            "charged_to": p.organisation.name if p.organisation else "your account",
            "status": p.get_status_display(),
            "cancelled_at": p.cancelled_at,
        }
        for p in Purchase.objects.filter(person=person)
        .select_related("product", "organisation")
        .order_by("created_at", "pk")
    ]


register(
    Category(
        name="purchases",
        model=Purchase,
        fields=["quantity"],
        export=export_purchases,
        # The person link stays on the anonymised account; nothing else on a
        # purchase names them.
        erase=lambda person: None,
        legal_hold=FINANCE_HOLD,
        kept_on_erasure={
            "quantity": "Financial records are kept for six years (HMRC); how "
            "many were bought, which names no one once the account is anonymised.",
        },
        note="The services you bought from us (other than course places), for "
        "yourself or for your organisation's account. Kept, as accounting law "
        "requires, against the anonymised account.",
    )
)

not_personal(
    Product,
    ["name", "slug", "summary", "description"],
    reason="A service we sell, described by our staff.",
)
