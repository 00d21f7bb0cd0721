import csv
import io
import time

import pytest
from django.core import mail
from django.utils import timezone

from consent.selectors import can_contact
from consent.services import record_consent
from marketing import selectors, services, sms, tasks
from marketing.models import Campaign, Delivery
from privacy.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

from .factories import EMAIL, CampaignFactory, person


def send_now(campaign, capture):
    with capture(execute=True):
        return services.send_campaign(campaign)


def outcomes(campaign):
    return {d.person_id: d.status for d in Delivery.objects.filter(campaign=campaign)}


@pytest.mark.django_db
def test_sends_only_to_people_who_may_be_contacted_and_records_every_outcome(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.marketing.conftest.FailingForBounceBackend"
    yes = person(consents=EMAIL, first_name="Ada")
    never = person()
    withdrew = person(consents=EMAIL)
    record_consent(withdrew, "marketing", "email", False, "preferences")
    restricted = person(consents=EMAIL, processing_restricted=True)
    objected = person(consents=EMAIL, objects_to_direct_marketing=True)
    bounce = person(consents=EMAIL, email="x@bounce.example.org")
    sms_only = person(consents=[("marketing", "sms")])
    campaign = CampaignFactory.create()

    campaign = send_now(campaign, django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [[yes.email]]
    assert outcomes(campaign) == {
        yes.pk: "sent",
        never.pk: "skipped_no_consent",
        withdrew.pk: "skipped_no_consent",
        restricted.pk: "skipped_restricted",
        objected.pk: "skipped_restricted",
        bounce.pk: "retrying",
        sms_only.pk: "skipped_no_consent",
    }
    failed = Delivery.objects.get(campaign=campaign, status="retrying")
    assert "550 mailbox unavailable" in failed.error
    assert failed.attempts == 1
    campaign.refresh_from_db()
    assert campaign.status == "sending"  # while a retry is due

    # Still refused at the horizon: not sent, for good; the campaign finishes.
    past = timezone.now() - timezone.timedelta(seconds=1)
    Delivery.objects.filter(pk=failed.pk).update(retry_at=past, retry_until=past)
    assert services.retry_deliveries(rate_per_second=None) == {"failed": 1}
    assert outcomes(campaign)[bounce.pk] == "failed"
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert campaign.recipients_queued == 7
    assert selectors.delivery_counts(campaign)["sent"] == 1


@pytest.mark.django_db
def test_every_email_has_a_personal_one_click_unsubscribe(
    django_capture_on_commit_callbacks,
):
    p = person(consents=EMAIL, first_name="Ada")
    campaign = CampaignFactory.create()
    send_now(campaign, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    url = services.unsubscribe_url(
        p, purpose="marketing", channel="email", campaign_id=campaign.pk
    )
    assert url.startswith("http://testserver/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert url in message.body
    assert message.subject == "New courses for Ada"
    assert message.body.startswith("Hello Ada,")


@pytest.mark.django_db
def test_a_batch_task_run_twice_sends_once():
    people = [person(consents=EMAIL) for _ in range(3)]
    campaign = CampaignFactory.create(status="sending", started_at=timezone.now())
    ids = [p.pk for p in people]

    first = tasks.send_campaign_batch(campaign.pk, ids)
    second = tasks.send_campaign_batch(campaign.pk, ids)

    assert first == {"sent": 3}
    assert second == {"already": 3}
    assert len(mail.outbox) == 3
    assert Delivery.objects.filter(campaign=campaign).count() == 3


@pytest.mark.django_db
def test_queueing_twice_sends_each_person_once(django_capture_on_commit_callbacks):
    people = [person(consents=EMAIL) for _ in range(5)]
    campaign = send_now(CampaignFactory.create(), django_capture_on_commit_callbacks)
    tasks.queue_campaign(campaign.pk)  # a redelivered queueing task
    assert len(mail.outbox) == len(people)


@pytest.mark.django_db
def test_an_opt_out_after_queueing_is_honoured_at_send_time():
    keep, leave = person(consents=EMAIL), person(consents=EMAIL)
    campaign = CampaignFactory.create(status="sending", started_at=timezone.now())
    ids = list(selectors.campaign_audience_ids(campaign))  # what a batch carries
    record_consent(leave, "marketing", "email", False, "unsubscribe")
    tasks.send_campaign_batch(campaign.pk, ids)
    assert [m.to for m in mail.outbox] == [[keep.email]]
    assert outcomes(campaign)[leave.pk] == "skipped_no_consent"


@pytest.mark.django_db
def test_sending_is_paced_by_the_rate_setting(settings):
    settings.MARKETING_SEND_RATE_PER_SECOND = 20
    ids = [person(consents=EMAIL).pk for _ in range(5)]
    campaign = CampaignFactory.create(status="sending", started_at=timezone.now())
    started = time.monotonic()
    tasks.send_campaign_batch(campaign.pk, ids)
    assert time.monotonic() - started >= 4 / 20
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_a_future_campaign_is_scheduled_and_starts_when_due(
    django_capture_on_commit_callbacks,
):
    person(consents=EMAIL)
    campaign = CampaignFactory.create(
        send_at=timezone.now() + timezone.timedelta(hours=1)
    )
    campaign = send_now(campaign, django_capture_on_commit_callbacks)
    assert campaign.status == "scheduled"
    assert tasks.start_due_campaigns() == 0
    Campaign.objects.filter(pk=campaign.pk).update(send_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.start_due_campaigns() == 1
    assert len(mail.outbox) == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


@pytest.mark.django_db
def test_a_sent_campaign_cannot_be_sent_again(django_capture_on_commit_callbacks):
    person(consents=EMAIL)
    campaign = send_now(CampaignFactory.create(), django_capture_on_commit_callbacks)
    with pytest.raises(services.MarketingError, match="already been sent"):
        services.send_campaign(campaign)


@pytest.mark.django_db
def test_a_stopped_campaign_sends_nothing_more():
    ids = [person(consents=EMAIL).pk for _ in range(2)]
    campaign = CampaignFactory.create(status="sending", started_at=timezone.now())
    services.stop_campaign(campaign)
    assert tasks.send_campaign_batch(campaign.pk, ids) == {}
    assert mail.outbox == []


@pytest.mark.django_db
def test_recommendation_only_for_people_who_agreed_to_profiling(
    django_capture_on_commit_callbacks,
):
    topic = TopicFactory.create()
    booked = SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    suggested = CourseFactory.create(title="Advanced safeguarding", topics=[topic])
    SessionFactory.create(course=suggested)
    profiled = person(consents=[*EMAIL, ("profiling", "web")], first_name="Ada")
    not_profiled = person(consents=EMAIL, first_name="Bo")
    for p in (profiled, not_profiled):
        BookingFactory.create(person=p, session=booked)

    send_now(CampaignFactory.create(), django_capture_on_commit_callbacks)

    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "Recommended for you: Advanced safeguarding" in bodies[profiled.email]
    assert "Recommended for you" not in bodies[not_profiled.email]
    assert "{recommended_course}" not in bodies[not_profiled.email]


def test_personalise_replaces_only_known_placeholders():
    text = "Hi {first_name} {first_name.__class__}\n{recommended_course}\nBye"
    assert services.personalise(text, first_name="Ada", recommended="") == (
        "Hi Ada {first_name.__class__}\nBye"
    )
    assert services.check_placeholders(text) == []
    assert services.check_placeholders("{name} {first_name}") == ["name"]


@pytest.mark.django_db
def test_sms_goes_through_the_configured_backend(django_capture_on_commit_callbacks):
    texted = person(consents=[("marketing", "sms")], phone="07700 900123")
    no_phone = person(consents=[("marketing", "sms")])
    campaign = CampaignFactory.create(channel="sms", subject="", body="Hi {first_name}")
    send_now(campaign, django_capture_on_commit_callbacks)
    (message,) = sms.outbox
    assert message.to == "07700 900123"
    assert message.body.startswith(f"Hi {texted.first_name}\nStop texts: http")
    assert mail.outbox == []
    assert outcomes(campaign) == {texted.pk: "sent", no_phone.pk: "failed"}


@pytest.mark.django_db
def test_telephone_campaigns_are_not_sent_but_listed():
    campaign = CampaignFactory.create(channel="phone")
    with pytest.raises(services.MarketingError, match="download the list"):
        services.send_campaign(campaign)


@pytest.mark.django_db
def test_the_call_list_holds_only_contactable_people_and_the_export_is_logged():
    staff = UserFactory.create(is_staff=True)
    phone = [("marketing", "phone")]
    listed = person(consents=phone, phone="07700 900001", first_name="Ada")
    person(phone="07700 900002")  # no consent
    person(consents=phone, phone="07700 900003", processing_restricted=True)
    person(consents=[("marketing", "email")], phone="07700 900004")
    person(consents=phone, phone="=cmd|' /C calc'!A0", first_name="Eve")
    campaign = CampaignFactory.create(channel="phone")

    content = services.export_contact_list(campaign, by=staff)

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["First name", "Last name", "Phone"]
    assert rows[1] == [listed.first_name, listed.last_name, "07700 900001"]
    assert rows[2][2] == "'=cmd|' /C calc'!A0"  # not a formula in a spreadsheet
    assert len(rows) == 3
    event = AuditEvent.objects.get(action="marketing list exported")
    assert event.actor == staff
    assert (
        event.detail
        == f"campaign:{campaign.pk} phone list, 2 people, purpose marketing"
    )
    campaign.refresh_from_db()
    assert campaign.list_exported_count == 2


@pytest.mark.django_db
def test_a_partner_postal_list_holds_only_people_who_agreed_to_partner_offers():
    staff = UserFactory.create(is_staff=True)
    partner_fan = person(consents=[("partner_marketing", "post")])
    person(consents=[("marketing", "post")])  # our offers only
    campaign = CampaignFactory.create(
        purpose="partner_marketing", partner_name="Westmoor College", channel="post"
    )
    rows = list(
        csv.reader(
            io.StringIO(
                services.export_contact_list(campaign, by=staff).decode("utf-8-sig")
            )
        )
    )
    assert [r[:2] for r in rows[1:]] == [
        [partner_fan.first_name, partner_fan.last_name]
    ]
    assert rows[1][2:] == ["1 High Street", "", "Westmoor", "WM1 1AA"]


@pytest.mark.django_db
def test_the_contactable_count_agrees_with_can_contact():
    people = [
        person(consents=EMAIL),
        person(),
        person(consents=EMAIL, processing_restricted=True),
        person(consents=EMAIL, objects_to_direct_marketing=True),
        person(consents=EMAIL, is_active=False),
        person(consents=[("marketing", "sms")]),
    ]
    withdrawn = person(consents=EMAIL)
    record_consent(withdrawn, "marketing", "email", False, "unsubscribe")
    regranted = person(consents=EMAIL)
    record_consent(regranted, "marketing", "email", False, "unsubscribe")
    record_consent(regranted, "marketing", "email", True, "preferences")
    people += [withdrawn, regranted]
    campaign = CampaignFactory.create()  # the inactive account is no audience
    expected = {p.pk for p in people if can_contact(p, "email", "marketing")}
    assert set(
        selectors.campaign_recipients(campaign).values_list("pk", flat=True)
    ) == (expected)
    assert selectors.campaign_counts(campaign) == {"audience": 7, "contactable": 2}


@pytest.mark.django_db
def test_an_audience_can_be_chosen_by_topic_job_title_workplace_and_area():
    from tests.accounts.factories import OrganisationFactory

    topic = TopicFactory.create()
    school = OrganisationFactory.create(kind="school", area="North")
    practice = OrganisationFactory.create(kind="practice", area="North")
    session = SessionFactory.create(course=CourseFactory.create(topics=[topic]))
    match = person(job_title="Teacher")
    match.profile.organisation = school
    match.profile.save()
    BookingFactory.create(person=match, session=session)
    other = person(job_title="Teacher")
    other.profile.organisation = practice
    other.profile.save()
    BookingFactory.create(person=other, session=session)
    person(job_title="Teacher")  # booked nothing
    campaign = CampaignFactory.create(
        audience="chosen",
        job_titles="teacher\nHead teacher",
        organisation_kinds=["school"],
        areas="north",
    )
    campaign.topics.set([topic])
    assert list(selectors.campaign_audience(campaign)) == [match]


@pytest.mark.django_db
def test_transactional_mail_never_carries_marketing(verified_user):
    from bookings.models import MailRecord
    from bookings.services import book_session, send_mail_record

    record_consent(verified_user, "marketing", "email", True, "preferences")
    book_session(verified_user, SessionFactory.create())

    send_mail_record(MailRecord.objects.get().pk)
    (message,) = mail.outbox
    assert "List-Unsubscribe" not in message.extra_headers
    assert "unsubscribe" not in message.body.lower()
    assert "Recommended for you" not in message.body
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_export_and_erasure_cover_marketing_deliveries():
    from privacy.registry import categories

    p = person(consents=EMAIL)
    campaign = CampaignFactory.create(status="sending", started_at=timezone.now())
    Delivery.objects.create(campaign=campaign, person=p, status="failed", error=p.email)
    category = next(c for c in categories() if c.name == "marketing_messages")
    (row,) = category.export(p)
    assert row["campaign"] == campaign.name
    category.erase(p)
    assert Delivery.objects.get().error == ""
