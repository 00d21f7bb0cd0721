"""A private SMTP server refusing mail: retried with back-off, sent once when
it accepts, and after OUTBOX_MAX_ATTEMPTS shown to staff as failed."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from bookings import services
from bookings.models import MailRecord
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory


@pytest.fixture
def mail_to_private_smtp(private_smtp, on_private_db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = private_smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return private_smtp


def _book():
    person = UserFactory.create()
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    booking = services.book_session(person, SessionFactory.create())
    return person, MailRecord.objects.get(booking=booking, kind="confirmed")


def _time_passes(record):
    """As if the back-off had elapsed (the sweep runs every minute)."""
    MailRecord.objects.filter(pk=record.pk).update(
        retry_at=timezone.now() - timezone.timedelta(seconds=1)
    )


def test_refused_mail_is_retried_with_back_off_and_sent_once(mail_to_private_smtp):
    smtp = mail_to_private_smtp
    smtp.replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    person, record = _book()  # the task after commit meets the first 451

    record.refresh_from_db()
    assert (record.status, record.attempts) == ("failed", 1)
    assert "451" in record.last_error
    first_wait = record.retry_at - timezone.now()
    assert 50 < first_wait.total_seconds() <= 60
    assert services.send_pending_mail(older_than_seconds=0) == 0  # not yet due
    assert smtp.refused == 1

    _time_passes(record)
    services.send_pending_mail(older_than_seconds=0)  # the second 451
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("failed", 2)
    assert (record.retry_at - timezone.now()).total_seconds() > 100  # doubled

    _time_passes(record)
    assert services.send_pending_mail(older_than_seconds=0) == 1
    _time_passes(record)
    assert services.send_pending_mail(older_than_seconds=0) == 0
    record.refresh_from_db()
    assert (record.status, record.attempts, record.last_error) == ("sent", 3, "")
    assert [to for to, _ in smtp.accepted] == [[person.email]]
    assert b"Booking confirmed" in smtp.accepted[0][1]


def test_mail_refused_for_good_is_given_up_and_shown_to_staff(
    mail_to_private_smtp, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp = mail_to_private_smtp
    smtp.replies = ["550 5.1.1 Mailbox unavailable"] * 10
    person, record = _book()
    for _ in range(5):
        _time_passes(record)
        services.send_pending_mail(older_than_seconds=0)
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("gave_up", 3)
    assert smtp.refused == 3  # never tried again once given up
    assert smtp.accepted == []

    staff = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(staff)
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/bookings/mailrecord/?status__exact=gave_up")
    assert page.status_code == 200
    html = page.content.decode()
    assert person.email in html
    assert "Failed: gave up, send it by hand" in html
    assert record.last_error == "SMTPDataError: (550, b'5.1.1 Mailbox unavailable')"
    assert "SMTPDataError: (550, b&#x27;5.1.1 Mailbox unavailable&#x27;)" in html
    rows = page.context["cl"].result_list
    assert [(r.pk, r.attempts) for r in rows] == [(record.pk, 3)]
