"""No admin form sends a drop-down of a table that grows with use.

A `ForeignKey` or `ManyToManyField` in a Django admin form is, by default, a
`<select>` with an option for every row: at 200,000 people or 1,000,000
bookings a change page would send megabytes and take seconds to build.
Fields pointing at such tables are searched for instead
(`autocomplete_fields`), typed as an id (`raw_id_fields`) or shown read-only.
Only short lists of things staff set up are drop-downs."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.forms import ModelChoiceField, Select, SelectMultiple
from django.test import RequestFactory

from accounts.models import User
from consent.models import PolicyVersion
from courses.models import Provider, Topic
from funding.models import ApplicationType, FundingRound, FundingStream
from marketing.models import Campaign
from products.models import Product
from surveys.models import Survey

pytestmark = pytest.mark.django_db


# Lists staff set up by hand, which stay short.
SHORT_LISTS = {
    Provider,
    Topic,
    FundingStream,
    FundingRound,
    ApplicationType,
    PolicyVersion,
    Survey,
    Campaign,
    Product,
    Group,
    Permission,
    ContentType,
}


def admin_forms():
    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True)
    for model, model_admin in admin.site._registry.items():
        # A page staff may only view shows every field as text, not a form.
        if writable(model_admin, request):
            yield f"{model._meta.label} (admin)", model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            if writable(inline, request):
                formset = inline.get_formset(request)
                yield f"{model._meta.label} > {inline.model._meta.label}", formset.form


def writable(model_admin, request) -> bool:
    return model_admin.has_add_permission(
        request,
        *([None] if isinstance(model_admin, admin.options.InlineModelAdmin) else []),
    ) or model_admin.has_change_permission(request)


def test_no_admin_form_lists_every_row_of_a_growing_table():
    dropdowns = []
    for where, form in admin_forms():
        for name, field in form.base_fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            widget = getattr(field.widget, "widget", field.widget)  # unwrap
            if type(widget) not in (Select, SelectMultiple):
                continue  # autocomplete, raw id, hidden or a filter box
            related = field.queryset.model
            if related not in SHORT_LISTS:
                dropdowns.append(f"{where}.{name} -> {related._meta.label}")
    assert dropdowns == [], "\n".join(dropdowns)


def test_the_check_sees_a_drop_down():
    """The test above would fail on a plain foreign key."""
    from bookings.admin import TransactionAdmin

    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True)
    plain = type("Plain", (admin.ModelAdmin,), {})
    transaction_model = next(
        m for m, a in admin.site._registry.items() if isinstance(a, TransactionAdmin)
    )
    form = plain(transaction_model, admin.site).get_form(request)
    assert type(form.base_fields["booking"].widget.widget) is Select


def relation_filtered(model, spec):
    """The model a changelist filter `spec` lists the rows of, if a relation."""
    path = spec if isinstance(spec, str) else spec[0] if isinstance(spec, tuple) else ""
    field = None
    for part in path.split("__") if path else []:
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    return model if field is not None and field.is_relation else None


def test_no_changelist_filter_lists_every_row_of_a_growing_table():
    listed = [
        f"{model._meta.label}: {spec} -> {related._meta.label}"
        for model, model_admin in admin.site._registry.items()
        for spec in model_admin.list_filter
        if (related := relation_filtered(model, spec)) and related not in SHORT_LISTS
    ]
    assert listed == [], "\n".join(listed)


def test_the_organisation_filter_is_a_search_by_name():
    from accounts import roles
    from bookings.models import Booking
    from tests.accounts.factories import OrganisationFactory
    from tests.bookings.factories import BookingFactory
    from tests.conftest import staff_client

    admin_client = staff_client(roles.BOOKING_ADMINS)

    hillside, riverside = (
        OrganisationFactory.create(name=n) for n in ("Hillside Primary", "Riverside")
    )
    for org in (hillside, riverside):
        BookingFactory.create(organisation=org)
    url = "/admin/bookings/booking/"
    page = admin_client.get(url, {"status": "confirmed"}).content.decode()
    # No link per organisation, a text box that keeps the other filters.
    assert "Riverside" not in page.split('id="changelist-filter"')[1]
    assert (
        """<label for="filter-organisation_name">Organisation's name contains</label>"""
        in page
    )
    assert '<input type="hidden" name="status" value="confirmed">' in page

    response = admin_client.get(url, {"organisation_name": "  HILL  prim "})
    shown = list(response.context["cl"].result_list)
    assert [b.organisation for b in shown] == [hillside]
    assert 'value="HILL prim"' in response.content.decode()
    assert Booking.objects.count() == 2
    # Refused before the admin (config.middleware), never a 500.
    assert admin_client.get(url, {"organisation_name": "a\x00b"}).status_code == 400
    for ignored in ("x" * 101, "", " "):
        response = admin_client.get(url, {"organisation_name": ignored})
        assert len(response.context["cl"].result_list) == 2


# Forms whose choices of a growing table are bounded another way.
BOUNDED_ELSEWHERE = {
    # Past WORKPLACES_LISTED the field becomes a search (test_workplace_search).
    "SignupForm.organisation",
    "ProfileForm.organisation",
    "CompleteProfileForm.organisation",
    # The invoices of the one funding request the payment is for.
    "PaymentForm.invoice",
}


def test_no_form_of_ours_lists_every_row_of_a_growing_table():
    from tests.config.test_form_bounds import project_form_classes

    # A ModelAdmin's own form gets the admin's widgets (the test above).
    admin_forms_ = {model_admin.form for model_admin in admin.site._registry.values()}
    listed = []
    for form in project_form_classes():
        if form in admin_forms_:
            continue
        for name, field in form.base_fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            if not isinstance(field.widget, (Select, SelectMultiple)):
                continue
            if type(field.widget).__name__.startswith("Autocomplete"):
                continue
            where = f"{form.__name__}.{name}"
            # A queryset set in __init__ (None here) must be bounded elsewhere.
            related = getattr(field.queryset, "model", None)
            if related not in SHORT_LISTS and where not in BOUNDED_ELSEWHERE:
                listed.append(f"{form.__module__}.{where} -> {related}")
    assert listed == [], "\n".join(listed)
