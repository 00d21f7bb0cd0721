import datetime as dt
import io
import os
import subprocess
import zipfile
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import Profile, User
from bookings import services as booking_services
from bookings.models import Booking, Evaluation, PriorLearning, Transaction
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import ConsentRecord
from courses.models import Provider
from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest, Disclosure, RetentionRun
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

NAME, SURNAME = "Zebedee", "Quillfeather"
EMAIL = "zebedee.quillfeather@unique-school.example"
PHONE = "07700 900 417"
POSTCODE = "ZZ9 9ZZ"


def rich_person(tmp_path=None):
    person = UserFactory.create(first_name=NAME, last_name=SURNAME, email=EMAIL)
    EmailAddress.objects.create(user=person, email=EMAIL, verified=True, primary=True)
    Profile.objects.create(
        user=person,
        phone=PHONE,
        postcode=POSTCODE,
        address_line_1="1 Quill Lane",
        town="Featherby",
        job_title="Quill keeper",
        organisation=OrganisationFactory.create(),
        gender="woman",
        ethnicity="mixed",
        disability="no",
        year_of_birth=1980,
    )
    consent_services.record_consent(person, "marketing", "email", True, "signup")
    consent_services.record_consent(
        person, "marketing", "post", True, "staff", note=f"Call with {NAME}"
    )
    paid = SessionFactory.create(
        capacity=1,
        course__price=Decimal("50"),
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
        course__provider__contact_email="provider@example.org",
    )
    confirmed = booking_services.book_session(person, paid)
    full = SessionFactory.create(capacity=1)
    booking_services.book_session(
        UserFactory.create(), full, by=UserFactory.create(is_staff=True)
    )
    booking_services.book_session(person, full)  # waiting list
    attended = Booking.objects.create(
        person=person, session=SessionFactory.create(), status="attended"
    )
    Evaluation.objects.create(
        booking=attended, rating=5, comments=f"Great, signed {NAME}"
    )
    booking_services.cancel_booking(confirmed, person, reason=f"{NAME} is unwell")
    item = PriorLearning(
        person=person,
        title=f"{SURNAME} course",
        completed_on=dt.date(2025, 1, 2),
        cpd_hours=Decimal(3),
        notes=f"Phone {PHONE}",
    )
    item.evidence.save(
        "evidence.pdf", ContentFile(f"%PDF {NAME} {EMAIL}".encode()), save=False
    )
    item.save()
    DataSubjectRequest.objects.create(
        person=person, kind="erasure", details=f"I am {NAME} {SURNAME}"
    )
    return person


def report_totals():
    from funding.models import FundingRequest

    return {
        "funding_requests": FundingRequest.objects.count(),
        "funding_cost": sum(r.cost for r in FundingRequest.objects.all()),
        "bookings": Booking.objects.count(),
        "attended": Booking.objects.filter(status="attended").count(),
        "waiting": Booking.objects.filter(status="waitlisted").count(),
        "money": sum(t.amount for t in Transaction.objects.all()),
        "transactions": Transaction.objects.count(),
        "evaluations": Evaluation.objects.count(),
        "disclosures": Disclosure.objects.count(),
    }


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_nothing_in_a_database_dump_or_the_media_folder(private_media):
    person = rich_person()
    signed_in = Client()
    signed_in.force_login(person)
    assert signed_in.get("/bookings/").status_code == 200
    before = report_totals()
    dsr = DataSubjectRequest.objects.get(person=person)
    services.erase_person(person, dsr, by=None)
    services.erase_person(person, dsr, by=None)  # twice is harmless
    # The waiting-list place is withdrawn (the row stays, cancelled).
    assert report_totals() == {**before, "waiting": before["waiting"] - 1}

    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"] or "postgres",
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    assert "Quillfeather" not in dump  # sanity: the dump is of this database's data
    for secret in (NAME, SURNAME, EMAIL, PHONE, POSTCODE, "Quill Lane", "Featherby"):
        assert secret not in dump, f"{secret!r} survived erasure in the database"
    for root, _dirs, files in os.walk(private_media):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()  # noqa: SIM115
            assert NAME.encode() not in data
            assert EMAIL.encode() not in data
    person.refresh_from_db()
    assert not person.is_active
    assert not person.has_usable_password()
    assert list(
        ConsentRecord.objects.filter(person=person).values_list("source", flat=True)
    ) == ["erasure"]
    assert not consent_selectors.can_contact(person, "email", "marketing")
    assert (
        AuditEvent.objects.filter(action="erasure", subject=f"user:{person.pk}").count()
        == 2
    )
    assert not Client().login(email=EMAIL, password="correct-horse-battery")
    # The session they had is over too.
    assert signed_in.get("/bookings/").status_code == 302


@pytest.mark.django_db
def test_objection_to_direct_marketing_applies_at_once(client):
    person = UserFactory.create()
    consent_services.record_consent(person, "marketing", "email", True, "signup")
    client.force_login(person)
    client.post("/my-data/", {"kind": "object_marketing"})
    person.refresh_from_db()
    assert person.objects_to_direct_marketing
    assert not consent_selectors.can_contact(person, "email", "marketing")
    dsr = DataSubjectRequest.objects.get(person=person)
    assert dsr.status == "completed"
    client.post("/my-data/", {"kind": "erasure", "details": "Please remove me"})
    assert DataSubjectRequest.objects.filter(person=person).count() == 1
    confirmed = client.post(
        "/my-data/",
        {"kind": "erasure", "details": "Please remove me", "confirmed": "True"},
        follow=True,
    ).content.decode()
    dsr = DataSubjectRequest.objects.get(
        person=person, kind="erasure", status="received"
    )
    assert f"We have your request (reference {dsr.reference})" in confirmed
    assert dsr.reference == f"DR-{dsr.received_at:%Y}-{dsr.pk:05d}"
    html = client.get("/my-data/").content.decode()
    assert "Erasure" in html
    assert dsr.reference in html


@pytest.mark.django_db
def test_an_erasure_request_is_checked_before_it_is_sent(client):
    person = UserFactory.create()
    client.force_login(person)
    page = client.get("/my-data/").content.decode()
    # Each choice says what happens to bookings, funding and transactions.
    for n in range(5):
        assert f'aria-describedby="id_kind_{n}-hint"' in page
        assert (
            f'<div id="id_kind_{n}-hint" class="govuk-hint govuk-radios__hint">' in page
        )
    assert "We keep transactions (amounts and dates, with no name)" in page
    assert "you cannot book until the restriction is lifted" in page
    check = client.post("/my-data/", {"kind": "erasure", "details": "Ada & co <b>"})
    html = check.content.decode()
    assert check.status_code == 200
    assert "Check your answers before asking us to erase your data" in html
    assert "Ada &amp; co &lt;b&gt;" in html
    assert 'name="confirmed" value="True"' in html
    assert not DataSubjectRequest.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_my_data_download_and_the_large_export_link(
    client, settings, private_media, django_capture_on_commit_callbacks
):
    person = rich_person()
    client.force_login(person)
    response = client.post("/my-data/download/")
    assert response["Content-Type"] == "application/zip"
    assert "data.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    settings.PRIVACY_EXPORT_INLINE_MAX_ROWS = 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/my-data/download/")
    from privacy.models import ExportFile

    export = ExportFile.objects.get(person=person)
    assert f"/my-data/exports/{export.token}/" in mail.outbox[0].body
    assert client.get(f"/my-data/exports/{export.token}/").status_code == 200
    other = Client()
    other.force_login(UserFactory.create())
    assert other.get(f"/my-data/exports/{export.token}/").status_code == 404
    assert (
        Client().get(f"/my-data/exports/{export.token}/").status_code == 302
    )  # sign in
    ExportFile.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert client.get(f"/my-data/exports/{export.token}/").status_code == 404
    assert services.apply_retention()["expired data exports"] == 1
    assert RetentionRun.objects.filter(
        category="expired data exports", removed=1
    ).exists()


@pytest.mark.django_db
def test_restriction_stops_marketing_and_new_bookings():
    person = UserFactory.create()
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    consent_services.record_consent(person, "marketing", "email", True, "signup")
    services.restrict_processing(person)
    assert not consent_selectors.can_contact(person, "email", "marketing")
    with pytest.raises(booking_services.BookingError, match="restricted"):
        booking_services.book_session(person, SessionFactory.create())
    services.lift_restriction(person)
    assert consent_selectors.can_contact(person, "email", "marketing")


@pytest.mark.django_db
def test_due_dates_extensions_and_overdue():
    person = UserFactory.create()
    received = dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC)
    dsr = DataSubjectRequest.objects.create(
        person=person, kind="access", received_at=received
    )
    assert timezone.localtime(dsr.due_at).date() == dt.date(2026, 2, 28)
    with pytest.raises(services.PrivacyError):
        services.extend_request(dsr, months=2, reason="", by=person)
    services.extend_request(dsr, months=2, reason="Complex request", by=person)
    assert timezone.localtime(dsr.due_at).date() == dt.date(2026, 4, 30)
    assert dsr.is_overdue


@pytest.mark.django_db
def test_retention_removes_unverified_sign_ups_only():
    old = timezone.now() - dt.timedelta(days=40)
    stale = UserFactory.create()
    EmailAddress.objects.create(
        user=stale, email=stale.email, verified=False, primary=True
    )
    User.objects.filter(pk=stale.pk).update(date_joined=old)
    staff_added = UserFactory.create()
    User.objects.filter(pk=staff_added.pk).update(date_joined=old)
    fresh = UserFactory.create()
    EmailAddress.objects.create(
        user=fresh, email=fresh.email, verified=False, primary=True
    )
    results = services.apply_retention()
    assert results["unverified accounts"] == 1
    assert not User.objects.filter(pk=stale.pk).exists()
    assert User.objects.filter(pk__in=[staff_added.pk, fresh.pk]).count() == 2


GROUPS = [
    roles.COURSE_ADMINS,
    roles.BOOKING_ADMINS,
    roles.FUNDING_OFFICERS,
    roles.DATA_PROTECTION_LEAD,
]


@pytest.mark.django_db
@pytest.mark.parametrize("group", GROUPS)
def test_only_the_data_protection_lead_can_see_or_run_the_actions(group, private_media):
    staff = UserFactory.create(is_staff=True)
    staff.groups.add(Group.objects.get(name=group))
    give_totp(staff)
    client = Client()
    client.force_login(staff)
    person = UserFactory.create(first_name="Target")
    dsr = DataSubjectRequest.objects.create(
        person=person, kind="erasure", identity_verified=True
    )
    page = client.get("/admin/privacy/datasubjectrequest/")
    is_dpo = group == roles.DATA_PROTECTION_LEAD
    assert (page.status_code == 200) is is_dpo
    for action in ("export_data", "erase_data", "restrict", "lift"):
        response = client.post(
            "/admin/privacy/datasubjectrequest/",
            {"action": action, "_selected_action": [dsr.pk], "confirm": "yes"},
        )
        if not is_dpo:
            assert response.status_code == 403
    person.refresh_from_db()
    if is_dpo:
        assert person.erased_at is not None
        assert 'value="export_data"' in page.content.decode()
    else:
        assert person.erased_at is None
        assert not person.processing_restricted


@pytest.mark.django_db
def test_erase_action_asks_for_confirmation_and_tells_the_person_first(private_media):
    dpo = UserFactory.create(is_staff=True)
    dpo.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(dpo)
    client = Client()
    client.force_login(dpo)
    person = UserFactory.create(email="leaving@example.org")
    dsr = DataSubjectRequest.objects.create(person=person, kind="erasure")
    refused = client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": "erase_data", "_selected_action": [dsr.pk], "confirm": "yes"},
        follow=True,
    ).content.decode()
    assert (
        "Verify the person&#x27;s identity first." in refused
        or "Verify the person's identity first." in refused
    )
    access = DataSubjectRequest.objects.create(
        person=person, kind="access", identity_verified=True
    )
    client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": "erase_data", "_selected_action": [access.pk], "confirm": "yes"},
    )
    person.refresh_from_db()
    assert person.erased_at is None
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    page = client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": "erase_data", "_selected_action": [dsr.pk]},
    ).content.decode()
    assert "Transactions" in page
    assert "accounting law" in page
    person.refresh_from_db()
    assert person.erased_at is None
    client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": "erase_data", "_selected_action": [dsr.pk], "confirm": "yes"},
    )
    assert mail.outbox[0].to == ["leaving@example.org"]
    person.refresh_from_db()
    assert person.erased_at is not None


@pytest.mark.django_db
def test_processing_record_page_for_staff(client, first_policies):
    client.force_login(UserFactory.create())
    assert client.get("/staff/processing/").status_code == 403
    dpo = UserFactory.create(is_staff=True)
    dpo.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(dpo)
    client.force_login(dpo)
    html = client.get("/staff/processing/").content.decode()
    assert "Record of processing activities" in html
    assert "Legal obligation" in html


@pytest.mark.django_db
def test_retention_deletes_old_funding_documents_but_keeps_invoices(private_media):
    from funding.models import FundingDocument, FundingRequest, Invoice
    from tests.funding.factories import FundingRequestFactory

    old = FundingRequestFactory.create(status="closed")
    recent = FundingRequestFactory.create(status="closed")
    invoice = Invoice(
        request=old,
        supplier="University of Westmoor",
        number="OLD-1",
        amount=Decimal(250),
        invoice_date=dt.date(2019, 4, 1),
        original_name="invoice.pdf",
    )
    invoice.file.save("invoice.pdf", ContentFile(b"%PDF invoice"), save=False)
    invoice.save()
    for request in (old, recent):
        doc = FundingDocument(
            request=request,
            kind="supporting",
            original_name="x.pdf",
            content_type="application/pdf",
            size=4,
        )
        doc.file.save("x.pdf", ContentFile(b"%PDF"), save=False)
        doc.save()
    FundingRequest.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=365 * 7)
    )
    results = services.apply_retention()
    assert results["funding documents"] == 1
    assert list(FundingDocument.objects.values_list("request_id", flat=True)) == [
        recent.pk
    ]
    assert RetentionRun.objects.filter(category="funding documents", removed=1).exists()
    # The invoice of the expired request, and its file, are kept.
    kept = Invoice.objects.get(pk=invoice.pk)
    assert kept.file.name == invoice.file.name
    with kept.file.open("rb") as fh:
        assert fh.read() == b"%PDF invoice"


@pytest.mark.django_db
def test_the_data_protection_lead_cannot_grant_roles_or_set_passwords():
    dpo = UserFactory.create(is_staff=True)
    dpo.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(dpo)
    client = Client()
    client.force_login(dpo)
    other = UserFactory.create()
    page = client.get(f"/admin/accounts/user/{dpo.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page
    client.post(
        f"/admin/accounts/user/{dpo.pk}/change/",
        {"is_superuser": "on", "is_staff": "on"},
    )
    dpo.refresh_from_db()
    assert not dpo.is_superuser
    response = client.post(
        f"/admin/accounts/user/{other.pk}/password/",
        {"password1": "taken-over-123456", "password2": "taken-over-123456"},
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert not other.check_password("taken-over-123456")


@pytest.mark.django_db
def test_audit_events_hold_no_personal_data_and_cannot_be_changed():
    person = UserFactory.create(email="audited@example.org", first_name="Audrey")
    services.restrict_processing(person)
    event = AuditEvent.objects.get(action="restriction")
    assert event.subject == f"user:{person.pk}"
    assert "audited@example.org" not in f"{event.subject} {event.detail}"
    event.detail = "edited"
    with pytest.raises(ValueError, match="cannot be changed"):
        event.save()
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    assert (
        client.get(f"/admin/privacy/auditevent/{event.pk}/delete/").status_code == 403
    )
