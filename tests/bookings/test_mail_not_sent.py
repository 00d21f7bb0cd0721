"""Mail that could not be sent is never lost silently (config.outbox): retried
until OUTBOX_RETRY_HORIZON_HOURS whatever Celery did, then kept as "Failed: not
sent", counted on the staff pages and the admin index, tagged on the session
register, and sent again from admin once, never to an erased person. The same
for funding mail and campaign deliveries."""

import datetime as dt
import logging

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import MailRecord
from config import outbox
from funding.models import FundingEvent, FundingMail
from funding.services import common as funding_common
from marketing import services as marketing
from marketing.models import Campaign, Delivery
from privacy.services import erase_person
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory
from tests.funding.factories import FundingRequestFactory
from tests.marketing.factories import EMAIL, CampaignFactory, person

pytestmark = pytest.mark.django_db

PAST = dt.timedelta(seconds=1)


class RefusingBackend:
    """Every message refused, as by a mail server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise OSError("451 4.3.0 Try again later")


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    return settings


def staff_client(user) -> Client:
    give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def booking_admin() -> Client:
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    return staff_client(user)


def book(session=None):
    learner = UserFactory.create()
    EmailAddress.objects.create(
        user=learner, email=learner.email, verified=True, primary=True
    )
    booking = services.book_session(learner, session or SessionFactory.create())
    record = MailRecord.objects.get(booking=booking, kind="confirmed")
    # What the task queued after commit does (the test's transaction never
    # commits).
    services.dispatch_mail(record.pk)
    return booking, record


def past_the_horizon(model, pk):
    """As if the row had been retried until its horizon, which is now."""
    now = timezone.now()
    model.objects.filter(pk=pk).update(retry_at=now - PAST, retry_until=now - PAST)


def not_sent_booking_mail(settings, session=None):
    """A confirmation refused until its horizon passed."""
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    booking, record = book(session)
    past_the_horizon(MailRecord, record.pk)
    services.send_pending_mail(older_than_seconds=0)
    record.refresh_from_db()
    assert record.status == "gave_up"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return booking, record


# --- the horizon -----------------------------------------------------------------


def test_back_off_doubles_from_a_minute_to_an_hour_and_ends_on_the_horizon():
    now = timezone.now()
    until = now + dt.timedelta(hours=72)
    waits = [
        (outbox.next_retry_at(n, until, now) - now).total_seconds()
        for n in (1, 2, 3, 7, 8, 60)
    ]
    assert waits == [60, 120, 240, 3600, 3600, 3600]
    assert outbox.next_retry_at(1, now + dt.timedelta(seconds=10), now) == (
        now + dt.timedelta(seconds=10)
    )
    assert outbox.next_retry_at(1, now, now) is None


def test_a_row_is_retried_until_the_horizon_set_when_queued(settings, smtp_down):
    settings.OUTBOX_RETRY_HORIZON_HOURS = 5
    before = timezone.now()
    _, record = book()
    record.refresh_from_db()
    assert before + dt.timedelta(hours=5) <= record.retry_until
    assert record.retry_until <= timezone.now() + dt.timedelta(hours=5)
    for attempt in range(2, 16):  # far past the old limit of ten attempts
        MailRecord.objects.filter(pk=record.pk).update(retry_at=timezone.now() - PAST)
        services.send_pending_mail(older_than_seconds=0)
        record.refresh_from_db()
        assert (record.status, record.attempts) == ("failed", attempt)
    assert record.retry_at <= record.retry_until


def test_at_the_horizon_the_row_is_kept_as_not_sent_and_logged(smtp_down, caplog):
    _, record = book()
    past_the_horizon(MailRecord, record.pk)
    with caplog.at_level(logging.ERROR, logger="config.outbox"):
        assert services.send_pending_mail(older_than_seconds=0) == 1
    record.refresh_from_db()
    assert (record.status, record.attempts, record.retry_at) == ("gave_up", 2, None)
    assert record.get_status_display() == "Failed: not sent"
    assert "451 4.3.0 Try again later" in record.last_error
    (logged,) = [r for r in caplog.records if r.name == "config.outbox"]
    assert logged.levelname == "ERROR"
    assert f"MailRecord {record.pk} not sent: still failing after 2" in (
        logged.getMessage()
    )
    past_the_horizon(MailRecord, record.pk)
    assert services.send_pending_mail(older_than_seconds=0) == 0  # left for staff
    record.refresh_from_db()
    assert record.attempts == 2


# --- shown to staff ---------------------------------------------------------------


def test_the_staff_pages_count_messages_not_sent(settings):
    session = SessionFactory.create()
    for _ in range(3):
        not_sent_booking_mail(settings, session)
    book(session)  # sent: not counted
    client = booking_admin()
    html = client.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "3 messages could not be sent" in html
    assert "/admin/bookings/mailrecord/?status__exact=gave_up" in html
    index = client.get("/admin/").content.decode()
    assert "3 messages could not be sent" in index


def transfer_mail_not_sent():
    """The mail carrying a data transfer link, given up at its horizon."""
    from privacy.models import DataSubjectRequest, Transmission, TransmissionMail

    someone = UserFactory.create()
    transmission = Transmission.objects.create(
        request=DataSubjectRequest.objects.create(person=someone, kind="portability"),
        person=someone,
        recipient_name="Records Ltd",
        recipient_email="records@example.org",
        token_hash="x" * 64,
        expires_at=timezone.now(),
    )
    TransmissionMail.objects.create(
        transmission=transmission,
        key="t",
        kind="transmission",
        to="records@example.org",
        status="gave_up",
    )


def test_the_count_adds_every_outbox_the_person_may_view(settings):
    not_sent_booking_mail(settings)
    FundingMail.objects.create(key="f", kind="k", to="a@example.org", status="gave_up")
    campaign = CampaignFactory.create(status=Campaign.Status.SENT)
    Delivery.objects.create(campaign=campaign, person=person(), status="failed")
    Delivery.objects.create(campaign=campaign, person=person(), status="retrying")
    transfer_mail_not_sent()
    superuser = staff_client(UserFactory.create(is_staff=True, is_superuser=True))
    html = superuser.get("/admin/").content.decode()
    assert "4 messages could not be sent" in html
    for label in (
        "Booking emails: 1",
        "Funding emails: 1",
        "Campaign messages: 1",
        "Data transfer emails: 1",
    ):
        assert label in html
    assert "/admin/privacy/transmissionmail/?status__exact=gave_up" in html
    # A booking administrator sees the booking outbox only.
    html = booking_admin().get("/admin/").content.decode()
    assert "1 message could not be sent" in html
    assert "Funding emails" not in html


def test_no_banner_without_failures_or_for_learners(settings, learner_client):
    session = SessionFactory.create()
    html = booking_admin().get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "could not be sent" not in html
    not_sent_booking_mail(settings, session)
    assert "could not be sent" not in learner_client.get("/bookings/").content.decode()


def test_the_register_tags_the_person_whose_confirmation_was_not_sent(settings):
    session = SessionFactory.create()
    failed, _ = not_sent_booking_mail(settings, session)
    fine, _ = book(session)
    html = booking_admin().get(f"/staff/sessions/{session.pk}/").content.decode()
    assert html.count("Confirmation not sent") == 1
    row = html.split(failed.person.email)[1].split("</tr>")[0]
    assert "Confirmation not sent" in row
    assert f"?booking__id__exact={failed.pk}&amp;status__exact=gave_up" in row
    assert (
        "Confirmation not sent"
        not in html.split(fine.person.email)[1].split("</tr>")[0]
    )


def test_the_admin_list_filtered_by_the_tag_shows_that_row(settings):
    booking, record = not_sent_booking_mail(settings)
    not_sent_booking_mail(settings)
    page = booking_admin().get(
        f"/admin/bookings/mailrecord/?booking__id__exact={booking.pk}"
        "&status__exact=gave_up"
    )
    assert [r.pk for r in page.context["cl"].result_list] == [record.pk]
    assert "Failed: not sent" in page.content.decode()


def test_the_register_query_count_does_not_grow_with_failures(
    settings, django_assert_max_num_queries
):
    session = SessionFactory.create()
    client = booking_admin()
    not_sent_booking_mail(settings, session)
    with django_assert_max_num_queries(30) as one:
        client.get(f"/staff/sessions/{session.pk}/")
    for _ in range(5):
        not_sent_booking_mail(settings, session)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert html.count("Confirmation not sent") == 6


# --- send again ---------------------------------------------------------------------


def send_again(client, model_path, pks):
    return client.post(
        f"/admin/{model_path}/",
        {"action": "send_again", "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def test_send_again_sends_once_even_when_submitted_twice(
    settings, django_capture_on_commit_callbacks
):
    booking, record = not_sent_booking_mail(settings)
    client = booking_admin()
    with django_capture_on_commit_callbacks(execute=True):
        page = send_again(client, "bookings/mailrecord", [record.pk])
    assert "1 message will be sent again." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        page = send_again(client, "bookings/mailrecord", [record.pk])
    assert "Nothing was sent again" in page.content.decode()
    assert [m.to for m in mail.outbox] == [[booking.person.email]]
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("sent", 1)


def test_send_again_gives_a_new_horizon_from_now(
    settings, smtp_down, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RETRY_HORIZON_HOURS = 10
    _, record = not_sent_booking_mail(settings)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.send_mail_again([record.pk], by=UserFactory.create())
    assert queued == (1, 0)
    record.refresh_from_db()
    assert record.status == "failed"  # tried at once after commit, refused again
    assert record.attempts == 1
    assert record.retry_until > timezone.now() + dt.timedelta(hours=9, minutes=59)


def test_send_again_refuses_an_erased_person(settings):
    booking, record = not_sent_booking_mail(settings)
    # The address of an erased account, on a row erasure did not reach.
    person = booking.person
    type(person).objects.filter(pk=person.pk).update(erased_at=timezone.now())
    page = send_again(booking_admin(), "bookings/mailrecord", [record.pk])
    assert "cancelled, not sent: the person" in page.content.decode()
    record.refresh_from_db()
    assert (record.status, record.to) == ("cancelled", "cancelled@erased.invalid")
    assert mail.outbox == []


def test_erasure_cancels_mail_not_sent_and_forgets_the_address(settings):
    FundingMail.objects.create(
        key="f", kind="k", to="ann@example.org", status="gave_up"
    )
    ann = UserFactory.create(email="ann@example.org")
    erase_person(ann)
    row = FundingMail.objects.get()
    assert (row.status, row.to) == ("cancelled", "cancelled@erased.invalid")
    assert funding_common.send_mail_again([row.pk], by=ann) == (0, 0)


def test_only_staff_who_may_change_the_outbox_see_send_again(settings):
    _, record = not_sent_booking_mail(settings)
    viewer = UserFactory.create(is_staff=True)
    viewer.groups.add(Group.objects.get(name=roles.COURSE_ADMINS))
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_mailrecord"))
    client = staff_client(viewer)
    page = client.get("/admin/bookings/mailrecord/")
    assert page.status_code == 200
    assert "send_again" not in page.content.decode()
    send_again(client, "bookings/mailrecord", [record.pk])
    record.refresh_from_db()
    assert record.status == "gave_up"
    assert (
        "send_again"
        in booking_admin().get("/admin/bookings/mailrecord/").content.decode()
    )


def test_funding_mail_is_retried_to_the_horizon_and_sent_again(
    settings, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = funding_common.queue_mail(
            kind="status_changed",
            key="funding:1",
            to="ann@example.org",
            subject="ACP: approved",
            template="funding/email/status_changed.txt",
            context={
                "object": FundingRequestFactory.create(course_name="ACP"),
                "event": FundingEvent(to_status="approved"),
                "person": UserFactory.build(first_name="Ann"),
            },
        )
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    past_the_horizon(FundingMail, row.pk)
    funding_common.send_pending_mail(older_than_seconds=0)
    row.refresh_from_db()
    assert row.status == "gave_up"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    officer = UserFactory.create(is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    client = staff_client(officer)
    assert (
        "1 message could not be sent" in client.get("/staff/funding/").content.decode()
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_again(client, "funding/fundingmail", [row.pk])
    assert [m.extra_headers["X-CPD-Mail-Key"] for m in mail.outbox] == ["funding:1"]
    assert "could not be sent" not in client.get("/staff/funding/").content.decode()


# --- campaign deliveries -------------------------------------------------------------


def failed_delivery(settings, django_capture_on_commit_callbacks, **person_kwargs):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    ann = person(consents=EMAIL, **person_kwargs)
    campaign = CampaignFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        marketing.send_campaign(campaign)
    delivery = Delivery.objects.get(campaign=campaign, person=ann)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    past_the_horizon(Delivery, delivery.pk)
    assert marketing.retry_deliveries(rate_per_second=None) == {"failed": 1}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivery.refresh_from_db()
    return ann, delivery


def test_a_campaign_delivery_is_retried_then_failed_and_sent_again_once(
    settings, django_capture_on_commit_callbacks
):
    ann, delivery = failed_delivery(settings, django_capture_on_commit_callbacks)
    assert delivery.campaign.status == "sent"
    superuser = staff_client(UserFactory.create(is_staff=True, is_superuser=True))
    assert "1 message could not be sent" in superuser.get("/admin/").content.decode()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_again(superuser, "marketing/delivery", [delivery.pk])
    assert [m.to for m in mail.outbox] == [[ann.email]]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 0)


def test_a_delivery_sent_again_checks_consent_again(
    settings, django_capture_on_commit_callbacks
):
    from consent.services import record_consent

    ann, delivery = failed_delivery(settings, django_capture_on_commit_callbacks)
    record_consent(ann, "marketing", "email", False, "preferences")
    with django_capture_on_commit_callbacks(execute=True):
        assert marketing.send_deliveries_again([delivery.pk], by=ann) == (1, 0)
    delivery.refresh_from_db()
    assert delivery.status == "skipped_no_consent"
    assert mail.outbox == []


def test_a_retry_days_later_checks_consent_again(
    settings, django_capture_on_commit_callbacks
):
    from consent.services import record_consent

    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    ann = person(consents=EMAIL)
    campaign = CampaignFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        marketing.send_campaign(campaign)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    record_consent(ann, "marketing", "email", False, "preferences")
    Delivery.objects.update(retry_at=timezone.now() - PAST)
    assert marketing.retry_deliveries(rate_per_second=None) == {"skipped_no_consent": 1}
    assert mail.outbox == []
    campaign.refresh_from_db()
    assert campaign.status == "sent"


def test_a_delivery_to_an_erased_person_is_not_sent_again(
    settings, django_capture_on_commit_callbacks
):
    ann, delivery = failed_delivery(settings, django_capture_on_commit_callbacks)
    erase_person(ann)
    assert marketing.send_deliveries_again([delivery.pk], by=ann) == (0, 1)
    delivery.refresh_from_db()
    assert delivery.status == "skipped_restricted"
    assert mail.outbox == []


def test_stopping_a_campaign_cancels_its_retries(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    person(consents=EMAIL)
    campaign = CampaignFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        marketing.send_campaign(campaign)
    marketing.stop_campaign(campaign)
    assert list(Delivery.objects.values_list("status", flat=True)) == ["cancelled"]
    Delivery.objects.update(retry_at=timezone.now() - PAST)
    assert marketing.retry_deliveries(rate_per_second=None) == {}
