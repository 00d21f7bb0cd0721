"""The services pages: the list and each service's page are public to read;
buying needs a signed-in person with a verified email address (checked again
by `services.buy_product`, which has the last word on every rule)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.selectors import holds_role
from bookings.services import has_verified_email
from config.idempotency import idempotent

from . import selectors, services
from .forms import BuyForm
from .models import Product


def product_list_view(request: HttpRequest) -> HttpResponse:
    person = request.user if request.user.is_authenticated else None
    return render(
        request,
        "products/product_list.html",
        {"products": selectors.products_for(person)},
    )


def _why_not(request: HttpRequest, product: Product, organisations: list) -> str:
    """Why the signed-in person cannot buy the product now, or ""."""
    person = request.user
    if product.sold_out:
        return _("Sold out. Check again later.")
    if person.erased_at is not None or not person.is_active:
        return _("This account cannot buy services.")
    if person.processing_restricted:
        return _(
            "You cannot buy while the use of your data is restricted at your "
            "request. Contact our data protection lead to lift the restriction."
        )
    if not product.for_people and not organisations:
        return _(
            "This is sold to organisations only. Their bookers and finance "
            "contacts can buy it, charged to the organisation's account."
        )
    if not has_verified_email(person):
        return _("Confirm your email address before you buy.")
    return ""


@idempotent
def product_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = selectors.product_get(slug[:200])
    if product is None:
        raise Http404("No such service")
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        return render(request, "products/product_detail.html", {"product": product})
    organisations = list(selectors.organisations_buying_for(request.user))
    why_not = _why_not(request, product, organisations)
    form = BuyForm(
        request.POST if request.method == "POST" else None,
        product=product,
        organisations=organisations,
    )
    if request.method == "POST":
        if why_not:
            messages.error(request, why_not)
            return redirect(product)
        if form.is_valid():
            try:
                purchase = services.buy_product(
                    request.user,
                    product,
                    quantity=form.cleaned_data["quantity"],
                    organisation=form.organisation(),
                )
            except services.ProductsError as exc:
                messages.error(request, str(exc))
                return redirect(product)
            messages.success(request, _bought(purchase))
            return redirect("products:purchase", purchase.pk)
    return render(
        request,
        "products/product_detail.html",
        {"product": product, "form": form, "why_not": why_not},
    )


def _bought(purchase) -> str:
    what = f"{purchase.product.name}, quantity {purchase.quantity}"
    if not purchase.total:
        return _("You have bought %(what)s.") % {"what": what}
    if purchase.organisation:
        return _(
            "You have bought %(what)s. £%(total)s has been charged to "
            "%(org)s's account."
        ) % {"what": what, "total": purchase.total, "org": purchase.organisation}
    return _("You have bought %(what)s. £%(total)s has been added to your balance.") % {
        "what": what,
        "total": purchase.total,
    }


@login_required
def purchase_detail_view(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = get_object_or_404(
        selectors.purchases_for_person(person=request.user), pk=purchase_id
    )
    return render(
        request,
        "products/purchase_detail.html",
        {
            "purchase": purchase,
            # The account page is for the organisation's finance contacts.
            "sees_account": purchase.organisation is not None
            and holds_role(request.user, purchase.organisation, "is_finance_contact"),
        },
    )
