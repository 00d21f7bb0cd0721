"""The smaller rights and records as staff and the person see them: a disclosure
logged and audited, restriction put in place (future places withdrawn by the
one who restricted) and lifted, the audit row's limits, where imported data
came from, what erasure removes, an export given at once or prepared later,
retention runs and expired export links, and erasure's own audit row and the
mail it cancels."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, MailRecord
from privacy import registry, services
from privacy.models import AuditEvent, DataSubjectRequest, ExportFile, RetentionRun
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory

pytestmark = pytest.mark.django_db


def trail(person: User | None = None) -> list[tuple]:
    events = AuditEvent.objects.order_by("pk")
    if person is not None:
        events = events.filter(subject=f"user:{person.pk}")
    return [(e.action, e.actor, e.request, e.detail) for e in events]


def test_a_disclosure_is_logged_with_what_went_to_whom_and_audited():
    person = UserFactory.create()
    disclosure = services.log_disclosure(
        person,
        recipient="Westmoor Funding Body",
        fields=["name", "email"],
        purpose="Funding claim",
        reference="CLAIM-7",
    )
    disclosure.refresh_from_db()
    assert (
        disclosure.person,
        disclosure.recipient,
        disclosure.fields,
        disclosure.purpose,
        disclosure.reference,
    ) == (person, "Westmoor Funding Body", "name, email", "Funding claim", "CLAIM-7")
    assert trail(person) == [
        ("disclosure", None, None, "name, email to Westmoor Funding Body")
    ]


def test_a_disclosure_without_a_reference_keeps_it_empty():
    person = UserFactory.create()
    disclosure = services.log_disclosure(
        person, recipient="Auditor", fields=["email"], purpose="Audit"
    )
    disclosure.refresh_from_db()
    assert disclosure.reference == ""


def test_restriction_is_stored_withdraws_future_places_and_is_audited():
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    other = UserFactory.create()
    booking = BookingFactory.create(person=person)
    dsr = DataSubjectRequest.objects.create(person=person, kind="restriction")
    services.restrict_processing(person, dsr, by=lead)
    assert person.processing_restricted
    person.refresh_from_db()
    other.refresh_from_db()
    assert (person.processing_restricted, other.processing_restricted) == (True, False)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, lead)
    assert trail(person)[-1] == ("restriction", lead, dsr, "")


def test_lifting_a_restriction_is_stored_and_audited():
    lead = UserFactory.create(is_staff=True)
    person = UserFactory.create(processing_restricted=True)
    other = UserFactory.create(processing_restricted=True)
    dsr = DataSubjectRequest.objects.create(person=person, kind="restriction")
    services.lift_restriction(person, dsr, by=lead)
    assert person.processing_restricted is False
    person.refresh_from_db()
    other.refresh_from_db()
    assert (person.processing_restricted, other.processing_restricted) == (False, True)
    assert trail(person) == [("restriction lifted", lead, dsr, "")]


def test_an_audit_row_keeps_300_characters_of_detail_and_may_name_nobody():
    services.audit("retention", person=None, detail="d" * 400)
    [event] = AuditEvent.objects.all()
    assert (event.action, event.subject, event.actor, event.request) == (
        "retention",
        "",
        None,
        None,
    )
    assert event.detail == "d" * 300


def test_data_sources_counts_imported_rows_per_category_and_source():
    when = timezone.now() - dt.timedelta(days=3)
    person = UserFactory.create(import_source="Westmoor HR list", imported_at=when)
    for _ in range(2):
        BookingFactory.create(
            person=person, import_source="Old booking system", imported_at=when
        )
    BookingFactory.create(person=person)  # booked here: not imported
    BookingFactory.create(import_source="Old booking system")  # someone else's
    sources = services.data_sources(person)
    assert sorted(sources, key=lambda s: s["category"]) == [
        {
            "category": "account",
            "source": "Westmoor HR list",
            "imported_at": when,
            "count": 1,
        },
        {
            "category": "bookings",
            "source": "Old booking system",
            "imported_at": when,
            "count": 2,
        },
    ]


def test_data_sources_names_categories_in_words():
    when = timezone.now()
    person = UserFactory.create()
    from bookings.models import PriorLearning

    names = {c.name for c in registry.categories()}
    assert "training_done_elsewhere" in names
    PriorLearning.objects.create(
        person=person,
        title="First aid",
        completed_on=dt.date(2025, 5, 1),
        cpd_hours=3,
        import_source="Westmoor HR list",
        imported_at=when,
    )
    assert [s["category"] for s in services.data_sources(person)] == [
        "training done elsewhere"
    ]


def test_nothing_imported_means_no_sources():
    assert services.data_sources(UserFactory.create()) == []


def test_the_erasure_plan_names_each_category_in_words_with_its_note():
    plan = services.erasure_plan()
    assert plan == [
        {"name": c.name.replace("_", " "), "note": c.note}
        for c in registry.categories()
    ]
    assert "training done elsewhere" in [p["name"] for p in plan]


def test_a_small_export_is_given_at_once_and_audited_as_the_persons_own(
    private_media,
    settings,
    django_capture_on_commit_callbacks,
):
    person = UserFactory.create()
    settings.PRIVACY_EXPORT_INLINE_MAX_ROWS = 1  # the account row only
    with django_capture_on_commit_callbacks() as queued:
        content = services.export_now_or_later(person)
    assert content[:2] == b"PK"
    assert queued == []
    assert trail(person) == [("export", person, None, "")]


def test_a_large_export_is_prepared_later_and_mailed(
    private_media,
    settings,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    person = UserFactory.create()
    BookingFactory.create(person=person)
    settings.PRIVACY_EXPORT_INLINE_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.export_now_or_later(person) is None
    assert ExportFile.objects.get().person == person
    assert [m.to for m in mailoutbox] == [[person.email]]


def test_a_large_export_is_sent_later_without_reading_everything_first(
    settings, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """The rows are counted a category at a time, and no further once there
    are too many: fewer queries than there are categories, where gathering
    the export reads every one of them."""
    person = UserFactory.create()
    BookingFactory.create_batch(3, person=person)
    settings.PRIVACY_EXPORT_INLINE_MAX_ROWS = 2
    categories = registry.categories()
    first_booking = next(i for i, c in enumerate(categories) if c.name == "bookings")
    assert first_booking < len(categories) - 1
    with (
        django_capture_on_commit_callbacks() as queued,
        django_assert_max_num_queries(first_booking + 1),
    ):
        assert services.export_now_or_later(person) is None
    assert len(queued) == 1


def test_retention_records_how_many_each_rule_removed(monkeypatch):
    monkeypatch.setattr(
        registry,
        "retention_rules",
        lambda: {"old things": lambda: 3, "none": lambda: 0},
    )
    assert services.apply_retention() == {"old things": 3, "none": 0}
    assert sorted(RetentionRun.objects.values_list("category", "removed")) == [
        ("none", 0),
        ("old things", 3),
    ]


def test_expired_export_links_and_their_files_are_removed(
    private_media,
):
    person = UserFactory.create()
    expired = [services.prepare_export(person) for _ in range(2)]
    kept = services.prepare_export(person)
    ExportFile.objects.filter(pk__in=[e.pk for e in expired]).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert services.remove_expired_exports() == 2
    assert list(ExportFile.objects.all()) == [kept]
    for export in expired:
        assert not export.file.storage.exists(export.file.name)
    assert kept.file.storage.exists(kept.file.name)


def test_no_expired_exports_removes_nothing(private_media):
    services.prepare_export(UserFactory.create())
    assert services.remove_expired_exports() == 0


def test_erasure_is_audited_and_cancels_mail_still_waiting_for_the_person():
    person, lead = UserFactory.create(email="leaving@example.org"), UserFactory.create()
    waiting = MailRecord.objects.create(
        key="reminder-1", kind="reminder", to="leaving@example.org", subject="Hi"
    )
    dsr = DataSubjectRequest.objects.create(person=person, kind="erasure")
    services.erase_person(person, dsr, by=lead)
    person.refresh_from_db()
    assert person.erased_at is not None
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"
    assert trail(person)[-1] == ("erasure", lead, dsr, "")
