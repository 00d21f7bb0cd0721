"""What a person receives from a campaign and what is stored for each of them:
the whole email and text message, a working unsubscribe link, the outcome of
every delivery (sent, skipped and why, failed and why), how a batch copes with
people who left, were already sent to or were stopped, and when a campaign
counts as finished."""

import logging
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent.selectors import can_contact
from consent.services import record_consent
from marketing import services, sms, tasks
from marketing.models import Campaign, Delivery
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

from .factories import EMAIL, CampaignFactory, person

pytestmark = pytest.mark.django_db

SMS = [("marketing", "sms")]
PREFERENCES = "http://testserver" + reverse("consent:preferences")


def footer(url, site_name="Westmoor CPD"):
    return (
        "\n\n---\nYou are getting this because you agreed to hear from "
        f"{site_name} by email. To stop these emails, unsubscribe with one click:\n"
        f"{url}\n\nTo change any of your choices: {PREFERENCES}\n\n"
    )


def sending(**fields):
    return CampaignFactory.create(status="sending", started_at=timezone.now(), **fields)


def send(campaign, people, rate=None):
    return services.send_batch(
        campaign.pk, [getattr(p, "pk", p) for p in people], rate_per_second=rate
    )


def outcomes(campaign):
    return {
        d.person_id: (d.status, d.error)
        for d in Delivery.objects.filter(campaign=campaign)
    }


@pytest.fixture(autouse=True)
def _site_name(settings):
    settings.SITE_NAME = "Westmoor CPD"


class RecordingBackend:
    """An SMTP stand-in that records opening and closing its connection."""

    connections = opened = closed = 0
    fail_on_close = False

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        type(self).connections += 1
        self.inner = EmailBackend(*args, **kwargs)

    def open(self):
        type(self).opened += 1
        return True

    def close(self):
        type(self).closed += 1
        if self.fail_on_close:
            raise OSError("421 closing connection")

    def send_messages(self, messages):
        return self.inner.send_messages(messages)


@pytest.fixture
def recording_backend(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.connections = RecordingBackend.opened = 0
    RecordingBackend.closed = 0
    RecordingBackend.fail_on_close = False
    yield RecordingBackend
    RecordingBackend.fail_on_close = False


class StopsTheCampaignBackend(RecordingBackend):
    """Staff press "Stop" while the first message is going out."""

    campaign_id = None

    def send_messages(self, messages):
        services.stop_campaign(Campaign.objects.get(pk=self.campaign_id))
        return super().send_messages(messages)


class LongRefusalBackend(RecordingBackend):
    def send_messages(self, messages):
        raise OSError("554 " + "Refused." * 100)


# --- the message itself -----------------------------------------------------------


def test_the_email_a_person_receives_in_full():
    topic = TopicFactory.create()
    booked = SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    suggested = CourseFactory.create(title="Advanced safeguarding", topics=[topic])
    SessionFactory.create(course=suggested)
    ada = person(consents=[*EMAIL, ("profiling", "web")], first_name="Ada")
    BookingFactory.create(person=ada, session=booked)
    campaign = sending(subject="New courses for {first_name}")

    assert send(campaign, [ada]) == {"sent": 1}

    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://testserver/unsubscribe/")
    assert message.to == [ada.email]
    assert message.subject == "New courses for Ada"
    assert message.extra_headers == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-CPD-Campaign": str(campaign.pk),
    }
    assert message.body == (
        "Hello Ada,\n\nNew courses are open for booking.\n"
        "Recommended for you: Advanced safeguarding "
        f"http://testserver{suggested.get_absolute_url()}" + footer(url)
    )


def test_the_unsubscribe_link_in_an_email_withdraws_exactly_that_consent():
    ada = person(consents=[*EMAIL, *SMS])
    send(sending(), [ada])
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")

    response = Client(enforce_csrf_checks=True).post(
        url.removeprefix("http://testserver"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not can_contact(ada, "email", "marketing")
    assert can_contact(ada, "sms", "marketing")


def test_a_person_without_a_first_name_is_greeted_as_there():
    nameless = person(consents=EMAIL, first_name="")
    send(sending(subject="News for {first_name}"), [nameless])
    (message,) = mail.outbox
    assert message.subject == "News for there"
    assert message.body.startswith("Hello there,\n")


@pytest.mark.parametrize(
    "consents",
    [EMAIL, [*EMAIL, ("profiling", "web")]],
    ids=["no consent to profiling", "nothing to recommend"],
)
def test_without_a_recommendation_its_line_is_left_out(consents):
    ada = person(consents=consents, first_name="Ada")
    SessionFactory.create(course=CourseFactory.create(topics=[TopicFactory.create()]))
    send(sending(), [ada])
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.body == (
        "Hello Ada,\n\nNew courses are open for booking." + footer(url)
    )


def test_a_message_without_the_recommendation_placeholder_carries_none():
    topic = TopicFactory.create()
    booked = SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    ada = person(consents=[*EMAIL, ("profiling", "web")], first_name="Ada")
    BookingFactory.create(person=ada, session=booked)
    send(sending(body="Hello {first_name}"), [ada])
    (message,) = mail.outbox
    assert "Recommended" not in message.body
    assert message.body.startswith("Hello Ada\n\n---\n")


def test_a_recommendation_never_goes_into_a_subject_line():
    topic = TopicFactory.create()
    booked = SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    SessionFactory.create(
        course=CourseFactory.create(title="First aid", topics=[topic])
    )
    ada = person(consents=[*EMAIL, ("profiling", "web")], first_name="Ada")
    BookingFactory.create(person=ada, session=booked)
    send(sending(subject="Ada, try {recommended_course}"), [ada])
    (message,) = mail.outbox
    assert message.subject == "Ada, try "
    assert "Recommended for you: First aid" in message.body


def test_personalise_leaves_text_that_is_not_a_placeholder_as_written():
    assert services.personalise(
        "Dear {first_name}, see {venue}", first_name="Ada", recommended=""
    ) == ("Dear Ada, see {venue}")


def test_the_text_message_a_person_receives_in_full():
    ada = person(consents=SMS, phone="07700 900123", first_name="Ada")
    campaign = sending(channel="sms", subject="", body="Hi {first_name}, new dates")

    assert send(campaign, [ada]) == {"sent": 1}

    (message,) = sms.outbox
    assert message.to == "07700 900123"
    body, url = message.body.split("\nStop texts: ")
    assert body == "Hi Ada, new dates"
    assert url.startswith("http://testserver/unsubscribe/")
    assert mail.outbox == []
    # The link stops texts, and only texts.
    Client().post(url.removeprefix("http://testserver"))
    assert not can_contact(ada, "sms", "marketing")


def test_a_text_to_someone_without_a_phone_number_fails_and_says_why():
    no_phone = UserFactory.create()  # and no profile at all
    empty = person(consents=SMS, phone="")
    record_consent(no_phone, "marketing", "sms", True, "preferences")
    campaign = sending(channel="sms", subject="", body="Hi")

    assert send(campaign, [no_phone, empty]) == {"failed": 2}

    reason = ("failed", "MarketingError: No phone number on the profile.")
    assert outcomes(campaign) == {no_phone.pk: reason, empty.pk: reason}
    assert sms.outbox == []


# --- outcomes ---------------------------------------------------------------------


def test_a_sent_delivery_records_when_and_no_error():
    ada = person(consents=EMAIL)
    campaign = sending()
    before = timezone.now()
    send(campaign, [ada])
    delivery = Delivery.objects.get()
    assert (delivery.campaign, delivery.person, delivery.status) == (
        campaign,
        ada,
        "sent",
    )
    assert delivery.error == ""
    assert before <= delivery.sent_at <= timezone.now()


@pytest.mark.parametrize(
    "fields",
    [
        {"processing_restricted": True},
        {"objects_to_direct_marketing": True},
        {"is_active": False},
        {"erased_at": timezone.now()},
    ],
    ids=["restricted", "objected", "inactive", "erased"],
)
def test_a_person_who_may_not_be_contacted_is_skipped_as_restricted(fields):
    skipped = person(consents=EMAIL, **fields)
    never_asked = person()
    campaign = sending()
    assert send(campaign, [skipped, never_asked]) == {
        "skipped_restricted": 1,
        "skipped_no_consent": 1,
    }
    assert outcomes(campaign) == {
        skipped.pk: ("skipped_restricted", ""),
        never_asked.pk: ("skipped_no_consent", ""),
    }
    delivery = Delivery.objects.get(person=skipped)
    assert delivery.sent_at is None
    assert mail.outbox == []


def test_a_failed_message_records_the_error_cut_to_fit_and_warns(settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.LongRefusalBackend"
    ada, bo = person(consents=EMAIL), person(consents=EMAIL)
    campaign = sending()

    with caplog.at_level(logging.WARNING, logger="marketing.services"):
        assert send(campaign, [ada, bo]) == {"retrying": 2}

    error = f"OSError: 554 {'Refused.' * 100}"[:500]
    assert outcomes(campaign) == {
        ada.pk: ("retrying", error),
        bo.pk: ("retrying", error),
    }
    assert Delivery.objects.get(person=ada).sent_at is None
    assert [r.getMessage() for r in caplog.records] == [
        f"Campaign {campaign.pk} to {p.pk} failed: 554 {'Refused.' * 100}"
        for p in (ada, bo)
    ]


# --- batches ----------------------------------------------------------------------


def test_a_redelivered_batch_counts_who_was_already_sent_to_and_who_left():
    first = [person(consents=EMAIL) for _ in range(2)]
    campaign = sending()
    send(campaign, first)
    left = [person(consents=EMAIL) for _ in range(2)]
    left_ids = [p.pk for p in left]
    for p in left:
        p.delete()
    new = [person(consents=EMAIL) for _ in range(2)]
    mail.outbox.clear()

    outcome = send(
        campaign, [first[0], left_ids[0], new[0], first[1], left_ids[1], new[1]]
    )

    assert outcome == {"already": 2, "gone": 2, "sent": 2}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in new)
    assert Delivery.objects.filter(campaign=campaign).count() == 4


@pytest.mark.parametrize("status", ["draft", "scheduled", "sent", "stopped"])
def test_a_batch_for_a_campaign_that_is_not_sending_sends_nothing(status):
    ada = person(consents=EMAIL)
    campaign = CampaignFactory.create(status=status)
    assert send(campaign, [ada]) == {}
    assert services.send_batch(0, [ada.pk], rate_per_second=None) == {}
    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_a_batch_is_not_mixed_up_with_another_campaign_to_the_same_people():
    ada = person(consents=EMAIL)
    earlier = sending()
    send(earlier, [ada])
    campaign = sending()
    assert send(campaign, [ada]) == {"sent": 1}
    assert [m.extra_headers["X-CPD-Campaign"] for m in mail.outbox] == [
        str(earlier.pk),
        str(campaign.pk),
    ]


def test_the_last_batch_finishes_the_campaign_and_no_other():
    people = [person(consents=EMAIL) for _ in range(3)]
    campaign = sending(recipients_queued=3)
    other = sending(recipients_queued=5)
    send(campaign, people[:2])
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"
    before = timezone.now()
    send(campaign, people[2:])
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert before <= campaign.finished_at <= timezone.now()
    other.refresh_from_db()
    assert (other.status, other.finished_at) == ("sending", None)


def test_a_batch_checks_every_hundred_people_whether_staff_stopped_it(settings):
    settings.EMAIL_BACKEND = f"{__name__}.StopsTheCampaignBackend"
    first = person(consents=EMAIL)
    rest = UserFactory.create_batch(110)  # none of them agreed to email
    campaign = sending()
    sending()  # another campaign goes on
    StopsTheCampaignBackend.campaign_id = campaign.pk

    outcome = send(campaign, [first, *rest])

    assert outcome == {"sent": 1, "skipped_no_consent": 98, "stopped": 1}
    assert Delivery.objects.filter(campaign=campaign).count() == 99
    assert len(mail.outbox) == 1


def test_a_batch_of_more_than_a_hundred_that_nobody_stops_reaches_everyone():
    people = UserFactory.create_batch(101)
    campaign = sending()
    assert send(campaign, people) == {"skipped_no_consent": 101}
    assert Delivery.objects.filter(campaign=campaign).count() == 101


def test_one_mail_connection_serves_a_whole_batch_and_is_closed(recording_backend):
    people = [person(consents=EMAIL) for _ in range(3)]
    send(sending(), people)
    assert len(mail.outbox) == 3
    assert recording_backend.connections == 1
    assert (recording_backend.opened, recording_backend.closed) == (1, 1)


def test_a_connection_that_fails_to_close_loses_no_outcome(recording_backend, caplog):
    recording_backend.fail_on_close = True
    ada = person(consents=EMAIL)
    campaign = sending(recipients_queued=1)
    with caplog.at_level(logging.WARNING, logger="marketing.services"):
        assert send(campaign, [ada]) == {"sent": 1}
    assert outcomes(campaign) == {ada.pk: ("sent", "")}
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"
    (record,) = caplog.records
    assert record.getMessage() == "Closing the mail connection failed"
    assert record.exc_info[1].args == ("421 closing connection",)


def test_a_text_batch_opens_no_mail_connection(recording_backend, caplog):
    ada = person(consents=SMS, phone="07700 900123")
    with caplog.at_level(logging.WARNING, logger="marketing.services"):
        send(sending(channel="sms", subject="", body="Hi"), [ada])
    assert len(sms.outbox) == 1
    assert recording_backend.connections == 0
    assert (recording_backend.opened, recording_backend.closed) == (0, 0)
    assert caplog.records == []


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_each_further_person_costs_the_same_few_queries(channel):
    consents = EMAIL if channel == "email" else SMS
    people = [person(consents=consents, phone="07700 900123") for _ in range(4)]

    def queries_for(batch):
        # No recommendation asked for, so none is looked up.
        campaign = sending(channel=channel, subject="Hi", body="Hi {first_name}")
        with CaptureQueriesContext(connection) as captured:
            assert send(campaign, batch) == {"sent": len(batch)}
        return len(captured)

    one, three = queries_for(people[:1]), queries_for(people[1:])
    # Find the person, claim the row, ask for consent, record the outcome; and
    # for an email, ask whether opens may be measured (here: no analytics).
    assert three - one == 2 * (5 if channel == "email" else 4)


# --- pace -------------------------------------------------------------------------


def test_messages_are_spaced_out_by_the_rate_but_not_slowed_further():
    people = [person(consents=EMAIL) for _ in range(3)]
    started = time.monotonic()
    send(sending(), people, rate=2)
    elapsed = time.monotonic() - started
    assert len(mail.outbox) == 3
    # Two gaps of half a second; twice that would be the rate halved.
    assert 1.0 <= elapsed < 1.7


def test_without_a_rate_messages_go_as_fast_as_they_can():
    people = [person(consents=EMAIL) for _ in range(4)]
    started = time.monotonic()
    tasks.send_campaign_batch(sending().pk, [p.pk for p in people])  # rate 0
    assert time.monotonic() - started < 2.0
    assert len(mail.outbox) == 4
