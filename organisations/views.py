"""The organisation pages: for an organisation's bookers, approvers and finance
contacts only. Every view finds the viewer's own confirmed role first
(`selectors.membership_for_page`), so anyone else gets a 404, and every object
is looked up within that organisation. The account, invoice and PDF pages are
for finance contacts only and are never cached (`private, no-store`); staff
see invoices in admin."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.models import Membership
from accounts.selectors import roles_held
from bookings import services as booking_services
from bookings.forms import CancelForm
from bookings.models import Booking
from config.idempotency import idempotent
from config.paging import link_pages, page_of
from courses.selectors import sessions_bookable
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments import views as payment_views

from . import selectors
from .forms import (
    ApprovalForm,
    BookMembersForm,
    MemberSearchForm,
    MembershipDecisionForm,
    SwapForm,
)
from .pdf import render_invoice_pdf


def _role(request: HttpRequest, org_id: int, *roles: str) -> Membership:
    """The viewer's membership, which must hold one of `roles` (403 if it holds
    another role: they know the page exists; 404 for everyone else)."""
    membership = selectors.membership_for_page(request.user, org_id)
    if roles and not any(getattr(membership, role) for role in roles):
        raise PermissionDenied(_("Your role in this organisation does not allow this."))
    return membership


@login_required
def index_view(request: HttpRequest) -> HttpResponse:
    held = list(roles_held(request.user))
    if len(held) == 1:
        return redirect("organisations:detail", held[0].organisation_id)
    if not held:
        return render(request, "organisations/no_role.html", status=403)
    return render(request, "organisations/index.html", {"memberships": held})


def _member_search(request: HttpRequest) -> tuple[MemberSearchForm, str]:
    """The members search of an organisation's pages (?member=…) and its
    words, empty when there are none or they are not valid (the form says
    why beside its field)."""
    search = MemberSearchForm(request.GET)
    return search, search.cleaned_data["member"] if search.is_valid() else ""


@login_required
def detail_view(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _role(request, org_id)
    organisation = membership.organisation
    context = {"membership": membership, "organisation": organisation}
    if membership.is_booker or membership.is_approver:
        # Members by name, a page at a time (?members=N), or those matching
        # a search (?member=…): a big employer has thousands.
        search, words = _member_search(request)
        members = page_of(
            request,
            selectors.members_overview(organisation, search=words),
            "members",
        )
        link_pages(members, keep={"member": words})
        context.update(
            members=members.object_list,
            members_page=members,
            search=search,
            searched=words,
        )
    if membership.is_approver:
        context["awaiting"] = selectors.awaiting_approval(organisation)
        context["requests"] = selectors.membership_requests(organisation)
        context["funding"] = selectors.funding_awaiting_support(
            organisation, request.user
        )
    return render(request, "organisations/detail.html", context)


@login_required
@idempotent
def book_view(request: HttpRequest, org_id: int, session_id: int) -> HttpResponse:
    membership = _role(request, org_id, "is_booker")
    organisation = membership.organisation
    session = get_object_or_404(
        sessions_bookable().select_related("course"), pk=session_id
    )
    already = {
        b.person_id: b
        for b in session.bookings.live()
        .filter(
            person__memberships__organisation=organisation,
            person__memberships__status=Membership.Status.CONFIRMED,
        )
        .select_related("person")
    }
    search, words = _member_search(request)
    members, more_members = selectors.members_offered(
        selectors.confirmed_members_for_booking(organisation).exclude(pk__in=already),
        words,
    )
    form = BookMembersForm(
        request.POST if request.method == "POST" else None,
        members=members,
        organisation=organisation,
        paid=session.course.price > 0,
    )
    if request.method == "POST" and form.is_valid():
        people = sorted(
            form.cleaned_data["people"],
            key=lambda p: (p.last_name.lower(), p.first_name.lower(), p.pk),
        )
        try:
            results = booking_services.book_members(
                session,
                people,
                by=request.user,
                organisation=organisation,
                purchase_order=form.cleaned_data.get("purchase_order", ""),
            )
        except booking_services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            for line in _summary(results):
                messages.success(request, line)
        return redirect("organisations:book", organisation.pk, session.pk)
    booked = sorted(already.values(), key=lambda b: (b.person.last_name.lower(), b.pk))
    places_left, reserved_for_others = selectors.places_for_members(
        session, organisation
    )
    return render(
        request,
        "organisations/book.html",
        {
            "organisation": organisation,
            "session": session,
            "form": form,
            "booked": booked,
            "search": search,
            "searched": words,
            "more_members": more_members,
            "members_offered": selectors.MEMBERS_OFFERED,
            "places_left": places_left,
            "reserved_for_others": reserved_for_others,
            # A member is never charged for a place someone else chose.
            "paid_not_on_account": session.course.price > 0
            and not organisation.pays_on_account,
        },
    )


def _summary(results) -> list[str]:
    """One sentence per outcome, naming the people: who has a place, whose
    place awaits approval, who is waiting, and who could not be booked."""
    groups: dict[str, list[str]] = {}
    refused: list[str] = []
    for person, booking, reason in results:
        name = person.get_full_name() or person.email
        if booking is None:
            refused.append(f"{name} ({reason.rstrip('.')})")
        elif getattr(booking, "reserved_places", None):
            groups.setdefault("reserved", []).append(name)
        else:
            groups.setdefault(booking.status, []).append(name)
    lines = []
    wording = {
        Booking.Status.CONFIRMED: _("Booked: %(names)s."),
        Booking.Status.AWAITING_APPROVAL: _("Place held awaiting approval: %(names)s."),
        Booking.Status.WAITLISTED: _(
            "The session is full, so on the waiting list: %(names)s."
        ),
        "reserved": _(
            "The places left are reserved for others, so on the waiting list: "
            "%(names)s."
        ),
    }
    for status, text in wording.items():
        if status in groups:
            lines.append(text % {"names": ", ".join(groups[status])})
    if refused:
        lines.append(_("Not booked: %(names)s.") % {"names": "; ".join(refused)})
    return lines


@login_required
@idempotent
def swap_view(request: HttpRequest, org_id: int, booking_id: int) -> HttpResponse:
    membership = _role(request, org_id, "is_booker")
    organisation = membership.organisation
    booking = selectors.member_booking(organisation, booking_id)
    taken = booking.session.bookings.live().values("person_id")
    search, words = _member_search(request)
    members, more_members = selectors.members_offered(
        selectors.confirmed_members_for_booking(organisation).exclude(pk__in=taken),
        words,
    )
    form = SwapForm(request.POST if request.method == "POST" else None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            new = booking_services.swap_booking(
                booking, form.cleaned_data["person"], by=request.user
            )
        except booking_services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(new)s now has the place instead of %(old)s. Both have been told.")
                % {"new": new.person, "old": booking.person},
            )
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/swap.html",
        {
            "organisation": organisation,
            "booking": booking,
            "form": form,
            "search": search,
            "searched": words,
            "more_members": more_members,
            "members_offered": selectors.MEMBERS_OFFERED,
        },
    )


@login_required
@idempotent
def cancel_view(request: HttpRequest, org_id: int, booking_id: int) -> HttpResponse:
    membership = _role(request, org_id, "is_booker")
    organisation = membership.organisation
    booking = selectors.member_booking(organisation, booking_id)
    allowed = booking_services.can_cancel(booking)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and allowed and form.is_valid():
        try:
            booking_services.cancel_booking(
                booking, request.user, reason=form.cleaned_data["reason"]
            )
        except booking_services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(person)s's booking has been cancelled and they have been told.")
                % {"person": booking.person},
            )
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/cancel.html",
        {
            "organisation": organisation,
            "booking": booking,
            "form": form,
            "allowed": allowed,
        },
    )


@login_required
@idempotent
def approval_view(request: HttpRequest, org_id: int, booking_id: int) -> HttpResponse:
    membership = _role(request, org_id, "is_approver")
    organisation = membership.organisation
    booking = get_object_or_404(
        Booking.objects.select_related("person__profile", "session__course"),
        pk=booking_id,
        approval_organisation=organisation,
    )
    form = ApprovalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                booking_services.approve_booking(booking, by=request.user)
                text = _("You approved %(person)s's place. They have been told.")
            else:
                booking_services.decline_booking(
                    booking, by=request.user, reason=form.cleaned_data["reason"]
                )
                text = _(
                    "You declined %(person)s's booking. The place has been "
                    "released and they have been told."
                )
        except booking_services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, text % {"person": booking.person})
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/approval.html",
        {
            "organisation": organisation,
            "booking": booking,
            "form": form,
            "own": booking.person_id == request.user.pk,
        },
    )


@login_required
@require_POST
@idempotent
def membership_view(
    request: HttpRequest, org_id: int, membership_id: int
) -> HttpResponse:
    membership = _role(request, org_id, "is_approver")
    organisation = membership.organisation
    target = get_object_or_404(
        Membership.objects.select_related("person"),
        pk=membership_id,
        organisation=organisation,
    )
    form = MembershipDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to confirm or remove the person."))
        return redirect("organisations:detail", organisation.pk)
    try:
        if form.cleaned_data["decision"] == "confirm":
            account_services.confirm_membership(target, by=request.user)
            text = _("%(person)s is now a confirmed member of %(org)s.")
        else:
            account_services.decline_membership(target, by=request.user)
            booking_services.release_held_for_non_members(target.person)
            text = _("%(person)s is no longer a member of %(org)s.")
    except account_services.AccountsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text % {"person": target.person, "org": organisation})
    return redirect("organisations:detail", organisation.pk)


@login_required
@idempotent
def funding_support_view(
    request: HttpRequest, org_id: int, request_id: int
) -> HttpResponse:
    """An approver's statement of support for a member's funding request that
    names them as manager, in place of the one-time link."""
    from funding import services as funding_services
    from funding.forms import ManagerSupportForm

    membership = _role(request, org_id, "is_approver")
    organisation = membership.organisation
    funding_request = get_object_or_404(
        selectors.funding_awaiting_support(organisation, request.user),
        pk=request_id,
    )
    form = ManagerSupportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            funding_services.record_approver_support(
                funding_request, by=request.user, **form.cleaned_data
            )
        except funding_services.FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Your answer on %(person)s's funding request has been recorded.")
                % {"person": funding_request.person},
            )
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/funding_support.html",
        {
            "organisation": organisation,
            "funding_request": funding_request,
            "form": form,
        },
    )


def _finance_contact_page(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """For the account's pages: only its confirmed finance contacts get in.
    Anyone else is refused (404, or 403 for another role) whatever the method;
    a finance contact's POST is then told these pages only read. The answer is
    never kept by a shared cache or the browser's: it is the organisation's
    money and its members' names."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, org_id: int, **kwargs) -> HttpResponse:
        membership = _role(request, org_id, "is_finance_contact")
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = view(request, membership, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


@_finance_contact_page
def account_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The organisation's balance, its invoices and credit notes and its
    ledger; the two lists grow every period, so each comes twenty at a time,
    newest first (?invoices=N, ?transactions=N)."""
    organisation = membership.organisation
    balance = selectors.account_balance(organisation)
    documents = page_of(request, selectors.account_documents(organisation), "invoices")
    ledger = page_of(request, selectors.account_ledger(organisation), "transactions")
    link_pages(documents, ledger)
    return render(
        request,
        "organisations/account.html",
        {
            "organisation": organisation,
            "balance": balance,
            "in_credit": -balance if balance < 0 else None,
            "ledger": ledger.object_list,
            "ledger_page": ledger,
            "documents": documents.object_list,
            "documents_page": documents,
            "card": payment_selectors.card_payments_enabled() and balance > 0,
            "pay_by_card": reverse("organisations:pay_by_card", args=[organisation.pk]),
            **_bank_transfer(organisation),
        },
    )


def _bank_transfer(organisation) -> dict:
    """The bank's details and the organisation's own reference (made the first
    time its balance is shown), or nothing when bank details are not set."""
    bank = payment_selectors.bank_details()
    if bank is None:
        return {}
    return {
        "bank": bank,
        "payment_reference": payment_services.reference_for(organisation=organisation),
    }


@login_required
@require_POST
@idempotent
def pay_by_card_view(request: HttpRequest, org_id: int) -> HttpResponse:
    """A finance contact pays the organisation's balance by card."""
    membership = _role(request, org_id, "is_finance_contact")
    reference = payment_services.reference_for(organisation=membership.organisation)
    return payment_views.start_card_payment(request, reference) or redirect(
        reverse("organisations:account", args=[org_id]) + "#pay"
    )


@_finance_contact_page
def invoice_view(
    request: HttpRequest, membership: Membership, number: str
) -> HttpResponse:
    invoice = selectors.account_document_get(membership.organisation, number)
    lines = list(invoice.lines.all())
    issuer = settings.INVOICE_ISSUER or settings.SITE_NAME
    return render(
        request,
        "organisations/invoice.html",
        {
            "organisation": membership.organisation,
            "invoice": invoice,
            "lines": lines,
            "show_po": any(
                line.purchase_order and line.purchase_order != invoice.purchase_order
                for line in lines
            ),
            "issuer": [part.strip() for part in issuer.split(",")],
            "payment_days": settings.INVOICE_PAYMENT_DAYS,
            **_bank_transfer(membership.organisation),
        },
    )


@_finance_contact_page
def invoice_pdf_view(
    request: HttpRequest, membership: Membership, number: str
) -> HttpResponse:
    invoice = selectors.account_document_get(membership.organisation, number)
    transfer = _bank_transfer(membership.organisation)
    response = HttpResponse(
        render_invoice_pdf(
            invoice,
            bank=transfer.get("bank"),
            payment_reference=getattr(transfer.get("payment_reference"), "code", ""),
        ),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="{invoice.filename}"'
    return response


@_finance_contact_page
def receipt_view(
    request: HttpRequest, membership: Membership, transaction_id: int
) -> HttpResponse:
    organisation = membership.organisation
    payment = get_object_or_404(
        payment_selectors.receipts_for_organisation(organisation=organisation),
        pk=transaction_id,
    )
    return payment_views.receipt_page(
        request,
        payment,
        back=reverse("organisations:account", args=[organisation.pk]),
        pdf=reverse("organisations:receipt_pdf", args=[organisation.pk, payment.pk]),
    )


@_finance_contact_page
def receipt_pdf_view(
    request: HttpRequest, membership: Membership, transaction_id: int
) -> HttpResponse:
    payment = get_object_or_404(
        payment_selectors.receipts_for_organisation(
            organisation=membership.organisation
        ),
        pk=transaction_id,
    )
    return payment_views.receipt_pdf(payment)
