"""The export, driven by the registry: every declared field of every category,
filled with a unique marker in a row the person owns (directly or through a
parent row), must come back in the person's ZIP, and so must every declared
file's bytes. A new category, field or file is picked up with no edit here;
only a category whose owner is a callable needs a builder below."""

import csv
import datetime as dt
import io
import itertools
import json
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import NOT_PROVIDED
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Organisation, User
from bookings.models import Booking
from courses.models import Session
from funding.models import Application, FundingRequest
from marketing.models import Campaign
from payments.models import PaymentReference
from privacy import registry, services
from privacy.models import AuditEvent
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory
from tests.funding.factories import ApplicationFactory, FundingRequestFactory
from tests.marketing.factories import CampaignFactory


class _PaymentReferences:
    """A payer's reference: for the person given, or for a new person."""

    @staticmethod
    def create(**fields):
        from payments.services import reference_for

        if "person" not in fields and "organisation" not in fields:
            fields["person"] = UserFactory.create()
        code = fields.pop("code", None)
        reference = reference_for(**fields)
        if code:
            reference.code = code
            reference.save()
        return reference


FACTORIES = {
    PaymentReference: _PaymentReferences,
    Booking: BookingFactory,
    FundingRequest: FundingRequestFactory,
    Application: ApplicationFactory,
    Session: SessionFactory,
    Campaign: CampaignFactory,
    Organisation: OrganisationFactory,
    User: UserFactory,
}


class Markers:
    """Unique values, one per field, and what the export must show for each."""

    def __init__(self):
        self._n = itertools.count(101)

    def text(self) -> str:
        return f"Mk{next(self._n)}x"

    def for_field(self, f: models.Field):
        """(value to store, value the export must show)."""
        if isinstance(f, models.FileField):
            mark = self.text()
            return ContentFile(f"file {mark}".encode(), name=f"{mark}.pdf"), mark
        if isinstance(f, models.ForeignKey):
            mark = self.text()
            return FACTORIES[f.related_model].create(name=mark), mark
        if f.choices:
            value = [v for v, _ in f.flatchoices if v not in ("", None)][-1]
            return value, value
        if isinstance(f, models.EmailField):
            mark = f"{self.text().lower()}@marker.example"
            return mark, mark
        if isinstance(f, models.CharField | models.TextField):
            mark = self.text()
            return mark, mark
        if isinstance(f, models.JSONField):
            mark = self.text()
            return [mark], [mark]
        if isinstance(f, models.BooleanField):
            return True, True
        if isinstance(f, models.IntegerField):
            number = 1000 + next(self._n)
            return number, number
        if isinstance(f, models.DateTimeField):
            when = dt.datetime(2001, 2, 3, 4, 5, next(self._n) % 60, tzinfo=dt.UTC)
            return when, when
        raise AssertionError(f"no marker for {f.model._meta.label}.{f.name}")


def _needs_value(f: models.Field) -> bool:
    if f.primary_key or getattr(f, "auto_now", False):
        return False
    if getattr(f, "auto_now_add", False) or f.default is not NOT_PROVIDED:
        return False
    if f.null:
        return False
    return not (f.blank and f.empty_strings_allowed)


def _filler(f: models.Field, person):
    if f.is_relation:
        return build(f.related_model, "", person)
    if f.choices:
        return f.flatchoices[0][0]
    if isinstance(f, models.FileField):
        return ContentFile(b"filler", name="filler.pdf")
    if isinstance(f, models.EmailField):
        return f"{uuid.uuid4().hex[:12]}@filler.example"
    if isinstance(f, models.CharField):
        return uuid.uuid4().hex[: f.max_length]
    if isinstance(f, models.TextField):
        return "filler"
    if isinstance(f, models.DecimalField):
        return Decimal(1)
    if isinstance(f, models.BooleanField):
        return False
    if isinstance(f, models.IntegerField):
        return 1
    if isinstance(f, models.DateTimeField):
        return timezone.now() + dt.timedelta(days=30)
    if isinstance(f, models.DateField):
        return timezone.localdate()
    raise AssertionError(f"no filler for {f.model._meta.label}.{f.name}")


def build(model, path: str, person, values: dict | None = None):
    """A row of `model` that the owner path `path` leads from to `person`."""
    values = dict(values or {})
    if model is User and not path:
        return person if values.get("_owner") else UserFactory.create()
    values.pop("_owner", None)
    head, _, rest = path.partition("__")
    if head == "pk":
        for name, value in values.items():
            setattr(person, name, value)
        person.save()
        return person
    if head and model._meta.get_field(head).many_to_many:
        # Owned through a many-to-many (a disclosure's people): the row first,
        # then the link.
        obj = build(model, "", person, values)
        related = model._meta.get_field(head).related_model
        getattr(obj, head).add(build(related, rest, person, {"_owner": True}))
        return obj
    if head:
        related = model._meta.get_field(head).related_model
        values[head] = build(related, rest, person, {"_owner": True})
    files = {k: v for k, v in values.items() if isinstance(v, ContentFile)}
    fields = {k: v for k, v in values.items() if k not in files}
    # A row the person can have only one of (a payment reference) that another
    # category's path leads through: reuse the one already built.
    only_one = [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.OneToOneField) and fields.get(f.name) is person
    ]
    if only_one and set(fields) <= set(only_one) and not files:
        existing = model._default_manager.filter(**{n: person for n in only_one})
        if existing.exists():
            return existing.get()
    if model in FACTORIES:
        obj = FACTORIES[model].create(**fields)
    else:
        for f in model._meta.concrete_fields:
            if f.name not in values and _needs_value(f):
                if isinstance(f, models.FileField):
                    files[f.name] = _filler(f, person)
                else:
                    fields[f.name] = _filler(f, person)
        obj = model(**fields)
    for name, content in files.items():
        getattr(obj, name).save(content.name, content, save=False)
    obj.save()
    return obj


def _audit_row(person, values):
    # The audit trail is the person's by its `subject`, which is the link
    # itself and so cannot carry a marker.
    values = {k: v for k, v in values.items() if k != "subject"}
    AuditEvent.objects.create(subject=f"user:{person.pk}", action="test", **values)
    return values


def _analytics_view(person, values=None, **extra):
    import uuid

    from analytics.cleaning import account_code
    from analytics.models import PageView

    values = {k: v for k, v in (values or {}).items() if k != "account_code"}
    fields = {
        "visit": "v",
        "route_name": "r",
        "route": "r",
        "path": "/",
        **values,
    }
    return PageView.objects.create(
        view_id=uuid.uuid4(),
        visited_at=dt.datetime.now(dt.UTC),
        account_code=account_code(person.pk),
        **fields,
        **extra,
    )


def _analytics_page_view(person, values):
    # The account code is the link itself and so cannot carry a marker.
    _analytics_view(person, values)
    return [k for k in values if k != "account_code"]


def _analytics_search(person, values):
    from analytics.cleaning import account_code
    from analytics.models import Search

    kept = {k: v for k, v in values.items() if k != "account_code"}
    Search.objects.create(
        searched_at=dt.datetime.now(dt.UTC),
        results=0,
        account_code=account_code(person.pk),
        **kept,
    )
    return list(kept)


def _analytics_engagement(person, values):
    from analytics.models import Engagement

    view = _analytics_view(person)
    Engagement.objects.create(
        view_id=view.view_id, reported_at=dt.datetime.now(dt.UTC), **values
    )
    return list(values)


def _analytics_click(person, values):
    from analytics.models import OutboundClick

    view = _analytics_view(person)
    OutboundClick.objects.create(
        view_id=view.view_id, clicked_at=dt.datetime.now(dt.UTC), **values
    )
    return list(values)


# Only categories whose owner is a callable need one; every other category is
# built from its owner paths.
CUSTOM_BUILDERS = {
    "audit": _audit_row,
    "analytics_page_views": _analytics_page_view,
    "analytics_searches": _analytics_search,
    "analytics_engagement": _analytics_engagement,
    "analytics_outbound_clicks": _analytics_click,
}


def fill_every_category(person) -> dict[str, list[tuple[str, object, bool]]]:
    """One row per owner path of every category, every declared field and file
    holding a marker. Returns, by category, (field, expected, withheld)."""
    markers = Markers()
    expected: dict[str, list[tuple[str, object, bool]]] = {}
    for category in registry.categories():
        meta = category.model._meta
        paths = category.owner_paths
        if not paths:
            assert category.name in CUSTOM_BUILDERS, (
                f"{category.name} is owned through a callable: add a builder"
            )
        for path in paths or [None]:
            values, shown = {}, []
            for name in [*category.fields, *category.files]:
                value, show = markers.for_field(meta.get_field(name))
                values[name] = value
                shown.append((name, show, name in category.withheld))
            if path is None:
                kept = CUSTOM_BUILDERS[category.name](person, values)
                shown = [s for s in shown if s[0] in kept]
            else:
                build(category.model, path, person, values)
            expected.setdefault(category.name, []).extend(shown)
    return expected


def _shows(rows: list[dict], expected) -> bool:
    for row in rows:
        for value in row.values():
            if isinstance(expected, str) and isinstance(value, str):
                if expected in value:
                    return True
            elif isinstance(expected, dt.datetime) and isinstance(value, str):
                if parse_datetime(value) == expected:
                    return True
            elif value == expected and type(value) is type(expected):
                return True
    return False


@pytest.mark.django_db
def test_every_declared_field_and_file_of_every_category_is_in_the_zip(
    private_media,
):
    person = UserFactory.create()
    expected = fill_every_category(person)
    archive = zipfile.ZipFile(io.BytesIO(services.export_person(person)))
    data = json.loads(archive.read("data.json"))["categories"]
    files = {
        name: archive.read(name).decode(errors="replace")
        for name in archive.namelist()
        if name.startswith("files/")
    }
    whole = "\n".join(
        archive.read(n).decode(errors="replace") for n in archive.namelist()
    )
    missing, leaked = [], []
    for category in registry.categories():
        rows = data[category.name]
        table = archive.read(f"{category.name}.csv").decode()
        csv_rows = list(csv.DictReader(io.StringIO(table)))
        for name, show, withheld in expected[category.name]:
            label = f"{category.name}.{name}"
            if name in category.files:
                in_files = any(
                    path.startswith(f"files/{category.name}/") and show in body
                    for path, body in files.items()
                )
                if withheld and show in whole:
                    leaked.append(label)
                elif not withheld and not in_files:
                    missing.append(label)
            elif withheld:
                if isinstance(show, str) and show in whole:
                    leaked.append(label)
            elif not _shows(rows, show):
                missing.append(label)
            elif isinstance(show, str) and not _shows(csv_rows, show):
                missing.append(f"{label} (CSV)")
    assert missing == [], "the export leaves out: " + ", ".join(missing)
    assert leaked == [], "the export shows withheld: " + ", ".join(leaked)


@pytest.mark.django_db
def test_export_holds_no_one_elses_rows(private_media):
    person, other = UserFactory.create(), UserFactory.create()
    fill_every_category(other)
    archive = zipfile.ZipFile(io.BytesIO(services.export_person(person)))
    data = json.loads(archive.read("data.json"))["categories"]
    assert [n for n in archive.namelist() if n.startswith("files/")] == []
    assert "Mk1" not in json.dumps(data)


@pytest.mark.django_db
def test_the_my_data_download_includes_funding_documents_and_invoice_files(
    private_media,
):
    from funding.models import FundingDocument, Invoice

    person = UserFactory.create()
    request = FundingRequestFactory.create(person=person)
    for kind, body in (("supporting", b"%PDF quote"), ("manager_letter", b"%PDF ok")):
        document = FundingDocument(
            request=request,
            kind=kind,
            original_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=len(body),
        )
        document.file.save("same-name.pdf", ContentFile(body), save=False)
        document.save()
    invoice = Invoice(
        request=request,
        supplier="University of Westmoor",
        number="INV-1",
        amount=Decimal(100),
        invoice_date=dt.date(2026, 1, 5),
        original_name="invoice.pdf",
    )
    invoice.file.save("invoice.pdf", ContentFile(b"%PDF invoice INV-1"), save=False)
    invoice.save()
    client = Client()
    client.force_login(person)
    response = client.post("/my-data/download/")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    bodies = {
        archive.read(n)
        for n in archive.namelist()
        if n.startswith(("files/funding_documents/", "files/funding_invoices/"))
    }
    assert bodies == {b"%PDF quote", b"%PDF ok", b"%PDF invoice INV-1"}


@pytest.mark.django_db
def test_every_imported_row_shows_its_source_on_your_data(private_media):
    """Every category whose model records an import source must show it."""
    person = UserFactory.create()
    sources = {}
    for category in registry.categories():
        names = {f.name for f in category.model._meta.concrete_fields}
        if "import_source" not in names:
            continue
        source = f"University of Westmoor cohort list ({category.name})"
        values = {"import_source": source, "imported_at": timezone.now()}
        build(category.model, category.owner_paths[0], person, values)
        sources[category.name] = source
    assert "account" in sources
    client = Client()
    client.force_login(person)
    html = client.get("/my-data/").content.decode()
    for name, source in sources.items():
        assert source in html, f"{name}: the import source is not shown"
    assert "Everything we hold about you, you gave us yourself" not in html


def test_a_model_owned_through_a_parent_row_must_say_so():
    from django.core.exceptions import ImproperlyConfigured

    from bookings.models import Evaluation

    with pytest.raises(ImproperlyConfigured, match="owner="):
        registry.Category(
            name="x", model=Evaluation, fields=[], export=list, erase=list
        )


def test_every_owner_path_ends_at_the_person():
    for category in registry.categories():
        for path in category.owner_paths:
            model = category.model
            for hop in path.split("__"):
                if hop == "pk":
                    break
                model = model._meta.get_field(hop).related_model
            assert model is User, f"{category.name}: {path} does not reach a person"


@pytest.mark.django_db
def test_the_readme_says_what_is_withheld_and_what_is_kept_by_law():
    person = UserFactory.create()
    readme = zipfile.ZipFile(io.BytesIO(services.export_person(person))).read(
        "README.txt"
    )
    readme = readme.decode()
    for category in registry.categories():
        assert f"- {category.name}: " in readme
        if category.legal_hold:
            assert category.legal_hold in readme
        for reason in category.withheld.values():
            assert reason in readme
