import datetime as dt
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import Booking, Evaluation, MailRecord, StaffLog, Transaction
from courses.models import Course, Provider
from privacy.models import Disclosure
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def verified(n=1):
    people = UserFactory.create_batch(n)
    for p in people:
        EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
    return people


@pytest.fixture
def booking_admin():
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_offer_mode_holds_the_place_until_accepted(django_capture_on_commit_callbacks):
    session = SessionFactory.create(
        capacity=1,
        course__waitlist_mode=Course.WaitlistMode.OFFER,
        course__offer_hours=12,
    )
    a, b = verified(2)
    holder = services.book_session(a, session)
    waiting = services.book_session(b, session)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(holder, a)
    waiting.refresh_from_db()
    assert waiting.status == "offered"
    assert abs(
        (waiting.offer_expires_at - timezone.now()) - dt.timedelta(hours=12)
    ) < dt.timedelta(minutes=1)
    assert any(
        "A place is available" in m.subject for m in mail.outbox if m.to == [b.email]
    )
    # The held place counts: a newcomer joins the waiting list.
    (c,) = verified()
    assert services.book_session(c, session).status == "waitlisted"
    services.accept_offer(waiting, b)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"


def test_an_expired_offer_passes_to_the_next_person():
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    a, b, c = verified(3)
    holder = services.book_session(a, session)
    second = services.book_session(b, session)
    third = services.book_session(c, session)
    services.cancel_booking(holder, a)
    Booking.objects.filter(pk=second.pk).update(
        offer_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert services.expire_offers() == 1
    assert services.expire_offers() == 0  # safe to run twice
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, third.status) == ("cancelled", "offered")
    with pytest.raises(services.BookingError, match="no place waiting"):
        services.accept_offer(second, b)


def test_staff_cancel_a_session_everyone_is_told_and_refunded(
    booking_admin, django_capture_on_commit_callbacks
):
    session = SessionFactory.create(capacity=1, course__price=Decimal("30"))
    a, b = verified(2)
    services.book_session(a, session)
    services.book_session(b, session)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = booking_admin.post(
            f"/staff/sessions/{session.pk}/cancel/",
            {"reason": "Trainer ill", "confirm": "on"},
        )
    assert response.status_code == 302
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a.email, b.email])
    assert all(m.subject.startswith("Session cancelled") for m in mail.outbox)
    assert sum(t.amount for t in Transaction.objects.filter(person=a)) == 0
    assert StaffLog.objects.filter(
        action="cancelled session", actor=booking_admin.user
    ).exists()


def test_cancel_session_needs_confirmation(booking_admin):
    session = SessionFactory.create()
    html = booking_admin.post(
        f"/staff/sessions/{session.pk}/cancel/", {}
    ).content.decode()
    assert "Confirm that you want to cancel the session" in html
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_move_a_booking_to_another_session_of_the_course(booking_admin):
    first = SessionFactory.create(capacity=1)
    later = SessionFactory.create(
        course=first.course, starts_at=first.starts_at + dt.timedelta(days=7)
    )
    a, b = verified(2)
    moving = services.book_session(a, first)
    waiting = services.book_session(b, first)
    booking_admin.post(f"/staff/bookings/{moving.pk}/move/", {"to_session": later.pk})
    moving.refresh_from_db()
    waiting.refresh_from_db()
    assert moving.session == later
    assert waiting.status == "confirmed"  # the freed place went to the first waiting
    other_course = SessionFactory.create()
    with pytest.raises(services.BookingError, match="same course"):
        services.move_booking(moving, other_course, booking_admin.user)


def test_register_marks_attendance_and_issues_verifiable_certificates(booking_admin):
    session = SessionFactory.create(starts_at=timezone.now() - dt.timedelta(hours=1))
    came, absent = BookingFactory.create_batch(2, session=session)
    response = booking_admin.post(
        f"/staff/sessions/{session.pk}/", {"attended": [came.pk]}
    )
    assert response.status_code == 302
    came.refresh_from_db()
    absent.refresh_from_db()
    assert (came.status, absent.status) == ("attended", "no_show")
    assert came.certificate_code
    assert not absent.certificate_code
    public = Client().get(f"/certificates/{came.certificate_code}/")
    html = public.content.decode()
    assert public.status_code == 200
    assert came.person.get_full_name() in html
    assert session.course.title in html
    assert came.person.email not in html
    assert Client().get("/certificates/NOPE-NOPE-NOPE/").status_code == 404


def test_staff_pages_need_the_permission(learner_client):
    session = SessionFactory.create()
    for url in (
        f"/staff/sessions/{session.pk}/",
        f"/staff/sessions/{session.pk}/attendees.csv",
    ):
        assert learner_client.get(url).status_code == 403


def test_attendee_csv_and_provider_csv_with_logged_disclosures(booking_admin):
    session = SessionFactory.create(
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
    )
    booking = BookingFactory.create(
        session=session, person__first_name="=cmd", person__last_name="X"
    )
    response = booking_admin.get(f"/staff/sessions/{session.pk}/attendees.csv")
    body = response.content.decode()
    assert booking.person.email in body
    assert "'=cmd X" in body  # formula injection defused
    response = booking_admin.get(f"/staff/sessions/{session.pk}/provider.csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "Name,Work email"
    assert len(lines) == 2
    disclosure = Disclosure.objects.get()
    assert (disclosure.person, disclosure.fields) == (
        booking.person,
        "name, work email",
    )
    assert disclosure.recipient == session.course.provider.name


def test_confirmed_booking_with_a_sharing_provider_is_disclosed_once(
    django_capture_on_commit_callbacks,
):
    session = SessionFactory.create(
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
        course__provider__contact_email="bookings@provider.example",
    )
    (person,) = verified()
    with django_capture_on_commit_callbacks(execute=True):
        services.book_session(person, session)
    notice = [m for m in mail.outbox if m.to == ["bookings@provider.example"]]
    assert len(notice) == 1
    assert person.email in notice[0].body
    assert (
        Disclosure.objects.filter(
            person=person, reference__startswith="booking:"
        ).count()
        == 1
    )
    internal = SessionFactory.create()
    services.book_session(person, internal)
    assert Disclosure.objects.count() == 1


def test_minimum_numbers_alert_staff_once_and_can_be_waived(
    booking_admin, django_capture_on_commit_callbacks
):
    session = SessionFactory.create(
        minimum_attendees=5, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    BookingFactory.create(session=session)
    SessionFactory.create(
        minimum_attendees=5, starts_at=timezone.now() + dt.timedelta(days=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.check_minimum_numbers() == 1
        assert services.check_minimum_numbers() == 0
    alert = [m for m in mail.outbox if m.to == [booking_admin.user.email]]
    assert len(alert) == 1
    assert "Below minimum numbers" in alert[0].subject
    html = booking_admin.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "Below minimum numbers" in html
    booking_admin.post(f"/staff/sessions/{session.pk}/run-anyway/")
    session.refresh_from_db()
    assert session.minimum_waived_at is not None
    assert session not in list(services.sessions_below_minimum())


def test_staff_email_attendees(booking_admin, django_capture_on_commit_callbacks):
    session = SessionFactory.create()
    came = BookingFactory.create(session=session, status="attended")
    BookingFactory.create(session=session, status="no_show")
    with django_capture_on_commit_callbacks(execute=True):
        booking_admin.post(
            f"/staff/sessions/{session.pk}/email/",
            {
                "audience": "attended",
                "subject": "Slides",
                "body": "Here are the slides.",
            },
        )
    assert [m.to for m in mail.outbox] == [[came.person.email]]
    assert "Here are the slides." in mail.outbox[0].body
    assert MailRecord.objects.get().status == "sent"


def test_evaluation_after_attending_and_course_admins_see_it(learner_client):
    booking = BookingFactory.create(
        person=learner_client.user,
        status="attended",
        session__starts_at=timezone.now() - dt.timedelta(days=1),
    )
    page = learner_client.get("/training-record/").content.decode()
    assert f"/bookings/{booking.pk}/evaluate/" in page
    response = learner_client.post(f"/bookings/{booking.pk}/evaluate/", {"rating": "9"})
    assert "Select a valid choice" in response.content.decode()
    learner_client.post(
        f"/bookings/{booking.pk}/evaluate/", {"rating": "4", "comments": "Useful"}
    )
    assert Evaluation.objects.get().rating == 4
    admin = UserFactory.create(is_staff=True)
    admin.groups.add(Group.objects.get(name=roles.COURSE_ADMINS))
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    html = client.get(
        f"/staff/sessions/{booking.session_id}/evaluations/"
    ).content.decode()
    assert "Useful" in html
    assert "4.0 out of 5" in html


def test_training_record_csv_and_private_evidence(learner_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    BookingFactory.create(
        person=learner_client.user,
        status="attended",
        session__course__title="Attended course",
    )
    upload = SimpleUploadedFile(
        "certificate.pdf", b"%PDF-1.4 evidence", content_type="application/pdf"
    )
    learner_client.post(
        "/training-record/",
        {
            "title": "Elsewhere",
            "completed_on": "2025-05-01",
            "cpd_hours": "2",
            "evidence": upload,
        },
    )
    body = learner_client.get("/training-record/export.csv").content.decode()
    assert "Attended course" in body
    assert "Elsewhere" in body
    from bookings.models import PriorLearning

    item = PriorLearning.objects.get()
    response = learner_client.get(f"/training-record/evidence/{item.pk}/")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 evidence"
    other = Client()
    other.force_login(UserFactory.create())
    assert other.get(f"/training-record/evidence/{item.pk}/").status_code == 404
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    html = learner_client.post(
        "/training-record/",
        {
            "title": "Bad",
            "completed_on": "2025-05-01",
            "cpd_hours": "2",
            "evidence": bad,
        },
    ).content.decode()
    assert "The selected file must be a PDF, JPG, PNG, DOCX, DOC or ODT" in html


def test_booking_charged_to_the_organisation_account(learner_client):
    from tests.accounts.factories import OrganisationFactory, member_of

    org = OrganisationFactory.create(pays_on_account=True)
    member_of(learner_client.user, org)
    session = SessionFactory.create(course__price=Decimal("80"))
    learner_client.post(
        f"/sessions/{session.pk}/book/", {"charge_to": "organisation", "confirm": "yes"}
    )
    charge = Transaction.objects.get()
    assert (charge.organisation, charge.amount) == (org, Decimal("80.00"))


def test_place_holding_statuses_agree_between_apps():
    from courses.selectors import PLACE_HOLDING

    assert set(PLACE_HOLDING) == set(Booking.PLACE_HOLDING)


def test_a_certificate_downloads_as_a_pdf_with_its_verification_address(
    booking_admin, settings
):
    settings.SITE_URL = "https://cpd.westmoor.example"
    session = SessionFactory.create(starts_at=timezone.now() - dt.timedelta(hours=1))
    came = BookingFactory.create(
        session=session, person__first_name="Ada", person__last_name="Lovelace"
    )
    booking_admin.post(f"/staff/sessions/{session.pk}/", {"attended": [came.pk]})
    came.refresh_from_db()
    owner = Client()
    owner.force_login(came.person)
    page = owner.get(f"/training-record/certificates/{came.pk}/").content.decode()
    verify = f"https://cpd.westmoor.example/certificates/{came.certificate_code}/"
    assert f'<a class="govuk-link" href="{verify}">{verify}</a>' in page
    assert 'href="?format=pdf"' in page
    pdf = owner.get(f"/training-record/certificates/{came.pk}/?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert f'filename="certificate-{came.reference}.pdf"' in pdf["Content-Disposition"]
    body = pdf.content.decode("latin-1")
    assert body.startswith("%PDF")
    for text in (
        "Certificate of attendance",
        "Ada Lovelace",
        verify,
        came.certificate_code,
    ):
        assert text in body
    # Nobody else gets it.
    other = Client()
    other.force_login(BookingFactory.create().person)
    assert (
        other.get(f"/training-record/certificates/{came.pk}/?format=pdf").status_code
        == 404
    )


def test_mark_everyone_as_attended_and_print_a_sign_in_sheet(booking_admin):
    session = SessionFactory.create(
        starts_at=timezone.now() - dt.timedelta(hours=1),
        venue="Westmoor Library",
        venue_address="1 High Street, Westmoor",
    )
    ada = BookingFactory.create(
        session=session, person__first_name="Ada", person__last_name="Lovelace"
    )
    ben = BookingFactory.create(session=session, person__first_name="Ben")
    waiting = BookingFactory.create(session=session, status="waitlisted")
    page = booking_admin.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "Westmoor Library" in page
    assert "1 High Street, Westmoor" in page
    assert 'name="everyone" value="attended"' in page
    assert f'href="/staff/sessions/{session.pk}/sign-in-sheet.pdf"' in page
    sheet = booking_admin.get(f"/staff/sessions/{session.pk}/sign-in-sheet.pdf")
    assert sheet["Content-Type"] == "application/pdf"
    body = sheet.content.decode("latin-1")
    assert "Ada Lovelace" in body
    assert "Signature" in body
    assert waiting.person.get_full_name() not in body
    response = booking_admin.post(
        f"/staff/sessions/{session.pk}/", {"everyone": "attended"}
    )
    assert response.status_code == 302
    for b in (ada, ben, waiting):
        b.refresh_from_db()
    assert (ada.status, ben.status, waiting.status) == (
        "attended",
        "attended",
        "waitlisted",
    )


def test_no_one_is_marked_attended_before_the_session_starts(booking_admin):
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=2))
    place = BookingFactory.create(session=session)
    html = booking_admin.post(
        f"/staff/sessions/{session.pk}/", {"everyone": "attended"}, follow=True
    ).content.decode()
    assert "cannot be recorded before the session starts" in html
    place.refresh_from_db()
    assert place.status == "confirmed"
