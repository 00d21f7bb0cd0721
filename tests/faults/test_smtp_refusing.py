"""A private SMTP server refusing mail: retried with back-off for as long as
OUTBOX_RETRY_HORIZON_HOURS (far more than the ten attempts and two hours that
once lost mail for good), sent exactly once when it accepts again; refused
past the horizon, shown to staff as not sent and sent again once from admin."""

import datetime as dt
import email
from collections import Counter

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import MailRecord
from funding.models import FundingEvent, FundingMail
from funding.services import common as funding
from marketing import services as marketing
from marketing.models import Campaign, Delivery
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory
from tests.funding.factories import FundingRequestFactory
from tests.marketing.factories import EMAIL, CampaignFactory, person

DOWN = "451 4.3.0 Service unavailable, try again later"


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


def _queue_funding_mail(to: str) -> FundingMail:
    return funding.queue_mail(
        kind="status_changed",
        key=f"funding:event:outage:{to}",
        to=to,
        subject="ACP: approved",
        template="funding/email/status_changed.txt",
        context={
            "object": FundingRequestFactory.create(course_name="ACP"),
            "event": FundingEvent(to_status="approved"),
            "person": UserFactory.build(first_name="Ann"),
        },
    )


def _every_outbox_due(shift=dt.timedelta(0)):
    """As if the back-off (and `shift` of time besides) had passed: every row
    is due now and was queued `shift` earlier."""
    due = timezone.now() - dt.timedelta(seconds=1)
    for model in (MailRecord, FundingMail):
        model.objects.update(
            retry_at=due,
            created_at=F("created_at") - shift,
            retry_until=F("retry_until") - shift,
        )
    Delivery.objects.filter(status="retrying").update(
        retry_at=due,
        created_at=F("created_at") - shift,
        retry_until=F("retry_until") - shift,
    )


def _sweep_everything():
    """What the periodic jobs do every minute."""
    services.send_pending_mail(older_than_seconds=0)
    funding.send_pending_mail(older_than_seconds=0)
    marketing.retry_deliveries(rate_per_second=None)


def _accepted_by_key(smtp) -> Counter:
    keys: Counter = Counter()
    for _rcpt, content in smtp.accepted:
        message = email.message_from_bytes(content)
        keys[message["X-CPD-Mail-Key"] or f"campaign:{message['X-CPD-Campaign']}"] += 1
    return keys


def test_an_outage_longer_than_the_old_limit_loses_nothing_and_sends_once(
    mail_to_private_smtp,
):
    smtp = mail_to_private_smtp
    smtp.replies = [DOWN] * 10_000  # down until cleared
    learner, record = _book()  # the task after commit meets the first refusal
    funding_mail = _queue_funding_mail(learner.email)
    fan = person(consents=EMAIL)
    campaign = marketing.send_campaign(CampaignFactory.create())
    delivery = Delivery.objects.get(campaign=campaign, person=fan)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert smtp.refused == 3

    # Refused at every sweep for five hours (the sweep's wait is an hour by
    # then), well past ten attempts and Celery's two hours of retries.
    for _ in range(14):
        _every_outbox_due(shift=dt.timedelta(minutes=20))
        _sweep_everything()
    for row in (record, funding_mail, delivery):
        row.refresh_from_db()
    assert (record.status, record.attempts) == ("failed", 15)
    assert (funding_mail.status, funding_mail.attempts) == ("failed", 15)
    assert (delivery.status, delivery.attempts) == ("retrying", 15)
    assert smtp.accepted == []
    campaign.refresh_from_db()
    assert campaign.status == "sending"  # a retry is still due

    smtp.replies.clear()  # the server is back
    _every_outbox_due()
    _sweep_everything()
    for _ in range(3):  # later sweeps, and the batch task run again, send nothing
        _every_outbox_due()
        _sweep_everything()
    marketing.send_batch(campaign.pk, [fan.pk], rate_per_second=None)

    assert _accepted_by_key(smtp) == {
        record.key: 1,
        funding_mail.key: 1,
        f"campaign:{campaign.pk}": 1,
    }
    assert sorted(set(MailRecord.objects.values_list("status", flat=True))) == ["sent"]
    assert FundingMail.objects.get().status == "sent"
    assert Delivery.objects.get(person=fan).status == "sent"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def _staff(group: str) -> Client:
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    give_totp(user)
    client = Client()
    client.force_login(user)
    return client


def test_mail_refused_past_the_horizon_is_shown_and_sent_again_once(
    mail_to_private_smtp, settings
):
    settings.OUTBOX_RETRY_HORIZON_HOURS = 72
    smtp = mail_to_private_smtp
    smtp.replies = ["550 5.1.1 Mailbox unavailable"] * 10_000
    learner, record = _book()
    for _ in range(4):
        _every_outbox_due(shift=dt.timedelta(hours=20))  # 80 hours in all
        services.send_pending_mail(older_than_seconds=0)
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("gave_up", 5)
    _every_outbox_due()
    services.send_pending_mail(older_than_seconds=0)
    assert smtp.refused == 5  # never tried again once not sent
    assert smtp.accepted == []

    staff = _staff(roles.BOOKING_ADMINS)
    page = staff.get("/admin/bookings/mailrecord/?status__exact=gave_up")
    html = page.content.decode()
    assert learner.email in html
    assert "Failed: not sent" in html
    assert record.last_error == "SMTPDataError: (550, b'5.1.1 Mailbox unavailable')"
    assert "SMTPDataError: (550, b&#x27;5.1.1 Mailbox unavailable&#x27;)" in html
    assert [(r.pk, r.attempts) for r in page.context["cl"].result_list] == [
        (record.pk, 5)
    ]
    register = staff.get(f"/staff/sessions/{record.booking.session_id}/")
    html = register.content.decode()
    assert "1 message could not be sent" in html
    assert "Confirmation not sent" in html

    smtp.replies.clear()  # the address is fixed; staff send it again, twice
    for _ in range(2):
        staff.post(
            "/admin/bookings/mailrecord/",
            {"action": "send_again", "_selected_action": [str(record.pk)]},
        )
    _every_outbox_due()
    services.send_pending_mail(older_than_seconds=0)
    assert _accepted_by_key(smtp) == {record.key: 1}
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("sent", 1)
    html = staff.get(f"/staff/sessions/{record.booking.session_id}/").content.decode()
    assert "could not be sent" not in html
    assert "Confirmation not sent" not in html


def test_send_again_never_writes_to_an_erased_person(mail_to_private_smtp):
    from privacy.services import erase_person

    smtp = mail_to_private_smtp
    smtp.replies = ["550 5.1.1 Mailbox unavailable"] * 10
    learner, _record = _book()
    row = _queue_funding_mail(learner.email)
    FundingMail.objects.update(retry_until=timezone.now() - dt.timedelta(seconds=1))
    _every_outbox_due()
    funding.send_pending_mail(older_than_seconds=0)
    row.refresh_from_db()
    assert row.status == "gave_up"

    erase_person(learner)
    smtp.replies.clear()
    staff = _staff(roles.FUNDING_OFFICERS)
    staff.post(
        "/admin/funding/fundingmail/",
        {"action": "send_again", "_selected_action": [str(row.pk)]},
    )
    _every_outbox_due()
    funding.send_pending_mail(older_than_seconds=0)
    row.refresh_from_db()
    assert (row.status, row.to) == ("cancelled", "cancelled@erased.invalid")
    assert smtp.accepted == []
