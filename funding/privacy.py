"""What the funding app holds about a person, and how it is exported and erased.

Funding requests and applications stay as anonymous rows (their person is the
anonymised account) with amounts, dates and status, so that spend and counts
reported to funders stay right; everything the person, their manager or an
officer wrote about them is cleared, and every file is deleted except invoices,
which are under the finance legal hold (funders require a record of them).
"""

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from privacy.registry import Category, not_personal, register, register_retention

from .models import (
    Application,
    ApplicationType,
    FundingDocument,
    FundingEvent,
    FundingMail,
    FundingRequest,
    FundingRound,
    FundingStream,
    Invoice,
    ManagerSupport,
    Payment,
    ProgressUpdate,
)


def export_requests(person) -> list[dict]:
    return [
        {
            "id": r.pk,
            "course": r.course_name,
            "provider": r.provider_display,
            "cost": r.cost,
            "start_date": r.start_date,
            "reason": r.reason,
            "manager_name": r.manager_name,
            "manager_email": r.manager_email,
            "workplace": r.organisation.name if r.organisation else "",
            "funding_round": str(r.round) if r.round else "",
            "status": r.get_status_display(),
            "amount_approved": r.amount_approved,
            "conditions_or_reason": r.decision_note,
            "submitted_at": r.submitted_at,
            "decided_at": r.decided_at,
            "created_at": r.created_at,
        }
        for r in FundingRequest.objects.filter(person=person).select_related(
            "provider", "organisation", "round__stream"
        )
    ]


def erase_requests(person) -> None:
    FundingRequest.objects.filter(person=person).update(
        reason="", manager_name="", manager_email="", decision_note=""
    )


def _events(person):
    return FundingEvent.objects.filter(
        Q(request__person=person) | Q(application__person=person)
    )


def export_events(person) -> list[dict]:
    return [
        {
            "request": e.request_id or "",
            "application": e.application_id or "",
            "when": e.created_at,
            "from": e.from_label,
            "to": e.to_label,
            "by": e.actor_label or ("you" if e.actor_id == person.pk else "staff"),
            "note": e.note,
        }
        for e in _events(person).order_by("created_at", "pk")
    ]


def erase_events(person) -> None:
    _events(person).update(note="", actor_label="")


def export_manager_support(person) -> list[dict]:
    return list(
        ManagerSupport.objects.filter(request__person=person)
        .order_by("created_at")
        .values(
            "request_id",
            "manager_name",
            "manager_email",
            "created_at",
            "used_at",
            "reminded_at",
            "supported",
            "statement",
        )
    )


def erase_manager_support(person) -> None:
    now = timezone.now()
    # The requests first, then their links: the order every change to them
    # takes (funding.services.requests), so that two cannot deadlock.
    list(
        FundingRequest.objects.select_for_update()
        .filter(person=person)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    links = ManagerSupport.objects.filter(request__person=person)
    links.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    links.update(manager_name="", manager_email="", statement="")


def export_documents(person) -> list[dict]:
    return list(
        FundingDocument.objects.filter(request__person=person)
        .order_by("uploaded_at")
        .values("request_id", "kind", "original_name", "uploaded_at")
    )


def erase_documents(person) -> None:
    for document in FundingDocument.objects.filter(request__person=person):
        document.file.delete(save=False)
        document.delete()


def export_invoices(person) -> list[dict]:
    return list(
        Invoice.objects.filter(request__person=person)
        .order_by("invoice_date")
        .values(
            "request_id",
            "supplier",
            "number",
            "amount",
            "invoice_date",
            "original_name",
        )
    )


FINANCE_HOLD = (
    "Finance: funders require us to keep a record of the invoices they paid, "
    "so invoices and their files are kept for as long as accounting law "
    "requires."
)


def erase_invoices(person) -> None:
    # Under the finance hold: the row and the invoice file stay. The name the
    # file was uploaded under can carry the person's name, which is not on the
    # document itself, so it goes; the stored path is already a random name.
    Invoice.objects.filter(request__person=person).update(original_name="")


def export_payments(person) -> list[dict]:
    return list(
        Payment.objects.filter(request__person=person)
        .order_by("paid_on")
        .values("request_id", "amount", "paid_on", "reference")
    )


def export_progress(person) -> list[dict]:
    return list(
        ProgressUpdate.objects.filter(request__person=person)
        .order_by("recorded_at")
        .values("request_id", "stage", "note", "recorded_at")
    )


def erase_progress(person) -> None:
    ProgressUpdate.objects.filter(request__person=person).update(note="")


def export_applications(person) -> list[dict]:
    return [
        {
            "id": a.pk,
            "type": a.type_name,
            "applied_for": a.programme,
            "employer": a.employer_name,
            "manager_name": a.manager_name,
            "manager_email": a.manager_email,
            "statement": a.statement,
            "status": a.get_status_display(),
            "note_to_you": a.decision_note,
            "submitted_at": a.submitted_at,
            "created_at": a.created_at,
        }
        for a in Application.objects.filter(person=person).select_related("type")
    ]


def erase_applications(person) -> None:
    Application.objects.filter(person=person).update(
        employer_name="",
        manager_name="",
        manager_email="",
        statement="",
        decision_note="",
    )


def _mails(person):
    return FundingMail.objects.filter(
        Q(request__person=person) | Q(application__person=person)
    )


def export_mail(person) -> list[dict]:
    return list(
        _mails(person)
        .order_by("created_at")
        .values("kind", "to", "subject", "body", "status", "created_at", "sent_at")
    )


def erase_mail(person) -> None:
    _mails(person).delete()


register(
    Category(
        name="funding_requests",
        model=FundingRequest,
        fields=["reason", "manager_name", "manager_email", "decision_note"],
        export=export_requests,
        erase=erase_requests,
        note="Kept as anonymous rows with amounts, dates and status, so spend "
        "reported to funders stays right; what you and others wrote is cleared.",
    )
)
register(
    Category(
        name="funding_timeline",
        owner=("request__person", "application__person"),
        model=FundingEvent,
        fields=["note", "actor_label"],
        export=export_events,
        erase=erase_events,
        note="Changes of state are kept anonymously; notes are cleared.",
    )
)
register(
    Category(
        name="funding_manager_support",
        owner="request__person",
        model=ManagerSupport,
        fields=["manager_name", "manager_email", "statement"],
        export=export_manager_support,
        erase=erase_manager_support,
        note="Your manager's details and statement are cleared; unused links stop.",
    )
)
register(
    Category(
        name="funding_documents",
        owner="request__person",
        model=FundingDocument,
        fields=["original_name"],
        files=["file"],
        export=export_documents,
        erase=erase_documents,
        note="Deleted, with the files.",
    )
)
register(
    Category(
        name="funding_invoices",
        owner="request__person",
        model=Invoice,
        fields=["original_name"],
        files=["file"],
        export=export_invoices,
        erase=erase_invoices,
        legal_hold=FINANCE_HOLD,
        note="Invoices and their files are kept, as funders and accounting law "
        "require; the name you uploaded the file under is removed.",
    )
)
register(
    Category(
        name="funding_payments",
        kept_on_erasure={
            "reference": "Financial records are kept for six years (HMRC); written by our code or staff about the payment, not about the person."
        },
        owner="request__person",
        model=Payment,
        fields=["reference"],
        export=export_payments,
        erase=lambda person: None,
        note="Kept, with amounts and dates, as accounting law requires.",
    )
)
register(
    Category(
        name="funding_progress",
        owner="request__person",
        model=ProgressUpdate,
        fields=["note"],
        export=export_progress,
        erase=erase_progress,
        note="Stages and dates are kept anonymously; your notes are cleared.",
    )
)
register(
    Category(
        name="applications",
        model=Application,
        fields=[
            "employer_name",
            "manager_name",
            "manager_email",
            "statement",
            "decision_note",
        ],
        export=export_applications,
        erase=erase_applications,
        note="Kept as anonymous rows so counts stay right; what was written is "
        "cleared.",
    )
)
register(
    Category(
        name="funding_messages",
        owner=("request__person", "application__person"),
        model=FundingMail,
        fields=["to", "subject", "body"],
        export=export_mail,
        erase=erase_mail,
        note="The record of funding messages sent about you is deleted.",
    )
)

not_personal(
    FundingStream,
    ["name", "description", "eligible_job_roles"],
    reason="A funding stream and its rules, written by staff.",
)
not_personal(FundingRound, ["name"], reason="The name of a funding round.")
not_personal(
    ApplicationType,
    [
        "name",
        "slug",
        "summary",
        "guidance",
        "subject_label",
        "subject_hint",
        "statement_label",
        "statement_hint",
    ],
    reason="A kind of application and the questions it asks, written by staff.",
)
not_personal(
    FundingRequest,
    ["course_name", "provider_name"],
    reason="A course and its provider, kept for aggregate spend reports.",
)
not_personal(
    ManagerSupport,
    ["token_hash"],
    reason="A hash of a one-time link, useless once used or expired.",
)


def remove_old_funding_mail() -> int:
    """Sent funding messages are kept as proof of sending for a limited time."""
    days = getattr(settings, "PRIVACY_RETENTION", {}).get("mail_records_days", 365)
    cutoff = timezone.now() - dt.timedelta(days=days)
    removed, _ = FundingMail.objects.filter(
        status="sent", created_at__lt=cutoff
    ).delete()
    return removed


register_retention("sent funding messages", remove_old_funding_mail)


def remove_old_funding_documents() -> int:
    """Supporting documents and managers' letters are deleted a set number of
    years (RETENTION_FUNDING_DOCUMENTS_YEARS) after the request was closed,
    declined or withdrawn. Invoices are kept: accounting law needs them."""
    years = getattr(settings, "PRIVACY_RETENTION", {}).get("funding_documents_years", 6)
    cutoff = timezone.now() - dt.timedelta(days=365 * years)
    finished = FundingRequest.objects.filter(
        status__in=[
            FundingRequest.Status.CLOSED,
            FundingRequest.Status.DECLINED,
            FundingRequest.Status.WITHDRAWN,
        ],
        updated_at__lt=cutoff,
    )
    removed = 0
    for document in FundingDocument.objects.filter(request__in=finished):
        document.file.delete(save=False)
        document.delete()
        removed += 1
    return removed


register_retention("funding documents", remove_old_funding_documents)
