"""Retention, driven by the registry's rules: each rule removes only what has
expired under it, and nothing any rule runs may remove invoices (or their
files), ledger rows or people with bookings or other records that must be
kept. A new rule fails here until it has a scenario: an expired and a fresh
example of what it removes."""

import datetime as dt
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import FormSubmission, User
from bookings.models import Booking, MailRecord, Transaction
from funding.models import (
    FundingDocument,
    FundingMail,
    FundingRequest,
    Invoice,
    Payment,
)
from marketing.models import Campaign, Delivery
from privacy import registry, services
from privacy.models import ExportFile
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.funding.factories import FundingRequestFactory
from tests.marketing.factories import CampaignFactory

LONG_AGO = dt.timedelta(days=365 * 12)


def _ago(delta=LONG_AGO):
    return timezone.now() - delta


def _exists(model, pk):
    return lambda: model._default_manager.filter(pk=pk).exists()


def _unverified(joined):
    person = UserFactory.create()
    EmailAddress.objects.create(
        user=person, email=person.email, verified=False, primary=True
    )
    User.objects.filter(pk=person.pk).update(date_joined=joined)
    return person


def exports_scenario():
    def make(expires_at):
        export = ExportFile(
            person=UserFactory.create(), token=str(expires_at), expires_at=expires_at
        )
        export.file.save("x.zip", ContentFile(b"PK"), save=False)
        export.save()
        return _exists(ExportFile, export.pk)

    return make(_ago(dt.timedelta(hours=1))), make(timezone.now() + dt.timedelta(1))


def unverified_scenario():
    days = settings.PRIVACY_RETENTION["unverified_accounts_days"]
    old = _unverified(_ago(dt.timedelta(days=days + 1)))
    fresh = _unverified(_ago(dt.timedelta(days=days - 1)))
    return _exists(User, old.pk), _exists(User, fresh.pk)


def _mail_age(days_over):
    return _ago(
        dt.timedelta(days=settings.PRIVACY_RETENTION["mail_records_days"] + days_over)
    )


def booking_mail_scenario():
    def make(created_at):
        mail = MailRecord.objects.create(
            key=f"k-{created_at.timestamp()}",
            kind="booked",
            to="a@example.org",
            status="sent",
        )
        MailRecord.objects.filter(pk=mail.pk).update(created_at=created_at)
        return _exists(MailRecord, mail.pk)

    return make(_mail_age(1)), make(_mail_age(-1))


def funding_mail_scenario():
    def make(created_at):
        mail = FundingMail.objects.create(
            key=f"f-{created_at.timestamp()}",
            kind="submitted",
            to="a@example.org",
            status="sent",
            subject="s",
            body="b",
        )
        FundingMail.objects.filter(pk=mail.pk).update(created_at=created_at)
        return _exists(FundingMail, mail.pk)

    return make(_mail_age(1)), make(_mail_age(-1))


def _document(request):
    document = FundingDocument(
        request=request,
        kind="supporting",
        original_name="x.pdf",
        content_type="application/pdf",
        size=4,
    )
    document.file.save("x.pdf", ContentFile(b"%PDF"), save=False)
    document.save()
    return document


def funding_documents_scenario():
    years = settings.PRIVACY_RETENTION.get("funding_documents_years", 6)

    def make(updated_at):
        request = FundingRequestFactory.create(status="closed")
        FundingRequest.objects.filter(pk=request.pk).update(updated_at=updated_at)
        return _exists(FundingDocument, _document(request).pk)

    return (
        make(_ago(dt.timedelta(days=365 * years + 1))),
        make(_ago(dt.timedelta(days=365 * years - 1))),
    )


def deliveries_scenario():
    def make(finished_at):
        campaign = CampaignFactory.create(status=Campaign.Status.SENT)
        Campaign.objects.filter(pk=campaign.pk).update(finished_at=finished_at)
        delivery = Delivery.objects.create(
            campaign=campaign, person=UserFactory.create(), status="sent"
        )
        return _exists(Delivery, delivery.pk)

    return make(_mail_age(1)), make(_mail_age(-1))


def survey_answers_scenario():
    from surveys.models import Answer, Question, Response, Survey

    survey = Survey.objects.create(title="How was it?", status="open")
    question = Question.objects.create(survey=survey, kind="text", text="Why?")
    months = settings.PRIVACY_RETENTION["survey_answers_months"]

    def make(submitted_at):
        response = Response.objects.create(survey=survey, person=UserFactory.create())
        Response.objects.filter(pk=response.pk).update(submitted_at=submitted_at)
        answer = Answer.objects.create(response=response, question=question, text="x")
        return _exists(Answer, answer.pk)

    return (
        make(_ago(dt.timedelta(days=31 * months + 5))),
        make(_ago(dt.timedelta(days=30 * months - 5))),
    )


def form_submissions_scenario():
    def make(created_at):
        row = FormSubmission.objects.create(
            user=UserFactory.create(), token=f"t{timezone.now().timestamp()}", path="/"
        )
        FormSubmission.objects.filter(pk=row.pk).update(created_at=created_at)
        return _exists(FormSubmission, row.pk)

    hours = settings.IDEMPOTENCY_TOKEN_HOURS
    return (
        make(_ago(dt.timedelta(hours=hours + 1))),
        make(_ago(dt.timedelta(hours=hours - 1))),
    )


def bank_lines_scenario():
    from payments.models import BankStatement, StatementLine

    years = settings.PRIVACY_RETENTION["bank_lines_years"]
    statement = BankStatement.objects.create(filename="s.sta", format="mt940")

    def make(booked_on, n):
        line = StatementLine.objects.create(
            statement=statement,
            fingerprint=f"retention-{n}",
            booked_on=booked_on,
            amount=Decimal("25.00"),
            description="J SMITH CPD-4K7QM-D",
            status=StatementLine.Status.IGNORED,
            note="Not ours: J Smith's refund",
        )
        # "Removed" here: what the bank sent, the payer's name, is gone.
        return lambda: StatementLine.objects.filter(
            pk=line.pk, description__contains="SMITH"
        ).exists()

    today = timezone.localdate()
    return (
        make(today - dt.timedelta(days=366 * years + 1), 1),
        make(today - dt.timedelta(days=365 * (years - 1)), 2),
    )


def transmissions_scenario():
    """A file whose link was used goes; one whose link still works stays."""
    from privacy.models import DataSubjectRequest, Transmission

    def make(downloaded_at):
        person = UserFactory.create()
        transmission = Transmission(
            request=DataSubjectRequest.objects.create(
                person=person, kind="portability"
            ),
            person=person,
            recipient_name="Records Ltd",
            recipient_email="records@example.org",
            sent_at=_ago(dt.timedelta(hours=1)),
            expires_at=timezone.now() + dt.timedelta(hours=1),
            token_hash=uuid.uuid4().hex,
            downloaded_at=downloaded_at,
        )
        transmission.file.save("x.zip", ContentFile(b"PK"), save=False)
        transmission.save()
        return lambda: bool(Transmission.objects.get(pk=transmission.pk).file)

    return make(_ago(dt.timedelta(minutes=5))), make(None)


def closed_accounts_scenario():
    years = settings.PRIVACY_RETENTION["closed_accounts_years"]

    def make(closed_at):
        person = UserFactory.create()
        User.objects.filter(pk=person.pk).update(closed_at=closed_at, is_active=False)
        return lambda: User.objects.filter(
            pk=person.pk, erased_at__isnull=True
        ).exists()

    return make(_ago()), make(_ago(dt.timedelta(days=365 * (years - 1))))


def corrected_values_scenario():
    from privacy.models import AuditEvent

    months = settings.PRIVACY_RETENTION["corrected_values_months"]

    def make(created_at):
        event = services.audit(
            "data corrected",
            person=UserFactory.create(),
            detail="first_name",
            old_value="Old",
            new_value="New",
        )
        AuditEvent.objects.filter(pk=event.pk).update(created_at=created_at)
        return lambda: AuditEvent.objects.filter(pk=event.pk, old_value="Old").exists()

    return make(_ago()), make(_ago(dt.timedelta(days=28 * (months - 1))))


def _analytics_age(months_over):
    from dateutil.relativedelta import relativedelta

    months = settings.PRIVACY_RETENTION["analytics_events_months"]
    return timezone.now() - relativedelta(months=months + months_over)


def analytics_events_scenario():
    """Page views (with their engagement, clicks and searches) past
    RETENTION_ANALYTICS_MONTHS go; a month-younger one stays."""
    from analytics.models import (
        Engagement,
        OutboundClick,
        PageView,
        PageViewDay,
        Search,
    )

    def make(at):
        view = PageView.objects.create(
            view_id=uuid.uuid4(),
            visited_at=at,
            visit="v",
            route_name="courses:list",
            route="courses/",
            path="/courses/",
        )
        Engagement.objects.create(view_id=view.view_id, reported_at=at, seconds=3)
        OutboundClick.objects.create(
            view_id=view.view_id, clicked_at=at, target="https://example.org"
        )
        search = Search.objects.create(searched_at=at, visit="v", terms="x", results=0)
        daily = PageViewDay.objects.create(
            day=timezone.localdate(at), route_name="", kind="view", views=1, visits=1
        )
        return lambda: (
            PageView.objects.filter(pk=view.pk).exists()
            and PageViewDay.objects.filter(pk=daily.pk).exists()
            and Search.objects.filter(pk=search.pk).exists()
            and Engagement.objects.filter(view_id=view.view_id).exists()
            and OutboundClick.objects.filter(view_id=view.view_id).exists()
        )

    return make(_analytics_age(1)), make(_analytics_age(-1))


def performance_counts_scenario():
    """Per-minute counts are kept as long as analytics (the notice: 26 months)."""
    from analytics.models import ErrorMinute, RouteMinute

    def make(at):
        minute = at.replace(second=0, microsecond=0)
        row = RouteMinute.objects.create(
            minute=minute, route="courses/", method="GET", status_class=5, count=1
        )
        error = ErrorMinute.objects.create(
            minute=minute, route="courses/", method="GET", exception="E", count=1
        )
        return lambda: (
            RouteMinute.objects.filter(pk=row.pk).exists()
            and ErrorMinute.objects.filter(pk=error.pk).exists()
        )

    return make(_analytics_age(1)), make(_analytics_age(-1))


SCENARIOS = {
    "analytics events": analytics_events_scenario,
    "service performance counts": performance_counts_scenario,
    "spent data transmission links": transmissions_scenario,
    "closed accounts": closed_accounts_scenario,
    "corrected values in the audit trail": corrected_values_scenario,
    "bank statement line descriptions": bank_lines_scenario,
    "form submission tokens": form_submissions_scenario,
    "expired data exports": exports_scenario,
    "unverified accounts": unverified_scenario,
    "sent booking messages": booking_mail_scenario,
    "sent funding messages": funding_mail_scenario,
    "funding documents": funding_documents_scenario,
    "marketing delivery records": deliveries_scenario,
    "survey answers": survey_answers_scenario,
}


def records_that_must_survive():
    """Old enough for every rule, and kept by law, a funder or a booking."""
    kept = {}
    request = FundingRequestFactory.create(status="closed")
    FundingRequest.objects.filter(pk=request.pk).update(updated_at=_ago())
    _document(request)  # expired: its removal must not take the invoice
    invoice = Invoice(
        request=request,
        supplier="University of Westmoor",
        number="INV-OLD",
        amount=Decimal(400),
        invoice_date=dt.date(2014, 5, 1),
    )
    invoice.file.save("invoice.pdf", ContentFile(b"%PDF invoice"), save=False)
    invoice.save()
    kept["invoice"] = _exists(Invoice, invoice.pk)
    kept["invoice file"] = lambda: (
        Invoice.objects.get(pk=invoice.pk).file.storage.exists(invoice.file.name)
        and Invoice.objects.get(pk=invoice.pk).file.open("rb").read() == b"%PDF invoice"
    )
    payment = Payment.objects.create(
        request=request,
        invoice=invoice,
        amount=Decimal(400),
        paid_on=dt.date(2014, 6, 1),
    )
    kept["funding payment"] = _exists(Payment, payment.pk)
    days = settings.PRIVACY_RETENTION["unverified_accounts_days"]
    stale = _ago(dt.timedelta(days=days + 30))
    booked = _unverified(stale)
    booking = BookingFactory.create(person=booked, status=Booking.Status.CANCELLED)
    kept["unverified person with a booking"] = _exists(User, booked.pk)
    kept["their booking"] = _exists(Booking, booking.pk)
    ledger_person = _unverified(stale)
    # The ledger is append-only (a trigger refuses UPDATE): write it long ago.
    with mock.patch("django.utils.timezone.now", return_value=_ago()):
        row = Transaction.objects.create(
            person=ledger_person, kind="credit", amount=Decimal(5), description="Credit"
        )
    kept["old ledger row"] = _exists(Transaction, row.pk)
    kept["unverified person with a ledger row"] = _exists(User, ledger_person.pk)
    applicant = _unverified(stale)
    FundingRequestFactory.create(person=applicant)
    kept["unverified person with a funding request"] = _exists(User, applicant.pk)
    return kept


@pytest.mark.django_db
def test_every_rule_removes_only_what_has_expired_and_keeps_what_must_be_kept(
    private_media,
):
    rules = registry.retention_rules()
    assert set(rules) - set(SCENARIOS) == set(), "give each new rule a scenario"
    assert set(SCENARIOS) - set(rules) == set(), "a scenario for a rule now gone"
    kept = records_that_must_survive()
    examples = {name: SCENARIOS[name]() for name in rules}
    for done, (name, rule) in enumerate(rules.items()):
        removed = rule()
        assert removed >= 1, f"{name} removed nothing that had expired"
        for index, (other, (expired, fresh)) in enumerate(examples.items()):
            assert fresh(), f"{name} removed a fresh {other} record"
            assert expired() == (index > done), f"{name}: expired {other} record"
        lost = [what for what, exists in kept.items() if not exists()]
        assert lost == [], f"{name} removed: {', '.join(lost)}"


@pytest.mark.django_db
def test_running_retention_again_removes_nothing_more(private_media):
    kept = records_that_must_survive()
    for make in SCENARIOS.values():
        make()
    first = services.apply_retention()
    assert all(count >= 1 for count in first.values()), first
    assert set(services.apply_retention().values()) == {0}
    assert [what for what, exists in kept.items() if not exists()] == []
