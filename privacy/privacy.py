"""The privacy app's own records about a person."""

from django.db.models import Q

from config.outbox import ERASED_DOMAIN, OutboxMessage
from privacy.registry import Category, register, register_retention

from .disclosures import remove_spent_transmission_files
from .models import (
    AuditEvent,
    DataSubjectRequest,
    Disclosure,
    ExportFile,
    Transmission,
    TransmissionMail,
)
from .selectors import disclosures_for_person, transmissions_for_person


def export_requests(person) -> list[dict]:
    return [
        {
            "kind": r.get_kind_display(),
            "received_at": r.received_at,
            "due_at": r.due_at,
            "status": r.get_status_display(),
            "details": r.details,
            "reason_for_extension": r.extension_reason,
            "why_a_request_for_a_second_approver_was_refused": (
                r.approval_refusal_reason
            ),
        }
        for r in DataSubjectRequest.objects.filter(person=person)
    ]


def erase_requests(person) -> None:
    DataSubjectRequest.objects.filter(person=person).update(
        details="",
        extension_reason="",
        approval_refusal_reason="",
        approval_requested_by=None,
        approval_requested_at=None,
    )


def export_disclosures(person) -> list[dict]:
    # A withheld disclosure is left out, and nothing says one was.
    return [
        {
            "disclosed_at": d.disclosed_at,
            "recipient": d.recipient,
            "kind_of_recipient": d.get_recipient_kind_display(),
            "lawful_basis": d.get_lawful_basis_display(),
            "fields": d.fields,
            "purpose": d.purpose,
            "reference": d.reference,
        }
        for d in disclosures_for_person(person=person)
    ]


def export_transmissions(person) -> list[dict]:
    return [
        {
            "organisation": t.recipient_name,
            "email_address": t.recipient_email,
            "asked_for_at": t.created_at,
            "sent_at": t.sent_at,
            "link_expires_at": t.expires_at,
            "collected_at": t.downloaded_at,
        }
        for t in transmissions_for_person(person=person)
    ]


def erase_transmissions(person) -> None:
    for transmission in Transmission.objects.filter(person=person):
        transmission.file.delete(save=False)
    Transmission.objects.filter(person=person).update(
        file="", token_hash="", recipient_email=""
    )
    erase_transmission_mail(person)


def erase_transmission_mail(person) -> None:
    TransmissionMail.objects.filter(transmission__person=person).exclude(
        status=OutboxMessage.Status.SENT
    ).update(
        status=OutboxMessage.Status.CANCELLED,
        last_error="Cancelled: the person's data was erased.",
    )
    TransmissionMail.objects.filter(transmission__person=person).update(
        to=f"cancelled@{ERASED_DOMAIN}"
    )


def erase_exports(person) -> None:
    for export in ExportFile.objects.filter(person=person):
        export.file.delete(save=False)
        export.delete()


register(
    Category(
        name="data_requests",
        model=DataSubjectRequest,
        # logged_by, completed_by and approval_requested_by are staff references:
        # they name who handled the request, not data about the person.
        fields=["details", "extension_reason", "approval_refusal_reason"],
        export=export_requests,
        erase=erase_requests,
        note="Kept as the record that the request was handled; details are cleared.",
    )
)
_KEPT = (
    "The record of what we shared with whom is our accountability record "
    "(UK GDPR Art. 5(2)); it names the recipient and the kinds of data, never "
    "the data."
)
_WITHHOLDING = (
    "Why a disclosure may be withheld from you under an exemption in the Data "
    "Protection Act 2018 (for example the prevention of crime)."
)
register(
    Category(
        name="disclosures",
        kept_on_erasure={
            name: _KEPT
            for name in (
                "purpose",
                "recipient",
                "fields",
                "reference",
                "report_reference",
                "withhold_reason",
                "withhold_refusal_reason",
            )
        },
        model=Disclosure,
        owner=("person", "people"),
        fields=[
            "purpose",
            "recipient",
            "fields",
            "reference",
            "report_reference",
            "withhold_reason",
            "withhold_refusal_reason",
        ],
        withheld={
            "withhold_reason": _WITHHOLDING,
            "withhold_refusal_reason": _WITHHOLDING,
            "report_reference": "Names an aggregated report, which names no one.",
        },
        export=export_disclosures,
        erase=lambda person: None,
        note="Kept as the legal record of what was shared, against the anonymised account.",
    )
)
register(
    Category(
        name="data_transmissions",
        model=Transmission,
        fields=["recipient_name", "recipient_email", "token_hash"],
        files=["file"],
        export=export_transmissions,
        erase=erase_transmissions,
        withheld={
            "token_hash": "The secret part of a one-time link, useless once used.",
            "file": "The same data as this download.",
        },
        kept_on_erasure={
            "recipient_name": "Which organisation we sent your data to, also "
            "kept in the record of disclosures (our accountability record)."
        },
        note="The link stops working and the file is deleted; the organisation's "
        "name is kept with the record of the disclosure.",
    )
)
register(
    Category(
        name="data_transmission_messages",
        model=TransmissionMail,
        owner="transmission__person",
        fields=["to"],
        export=lambda person: [],
        erase=erase_transmission_mail,
        withheld={"to": "The organisation's address, in data_transmissions."},
        note="Mail not yet sent is cancelled; the address is removed.",
    )
)
register_retention("spent data transmission links", remove_spent_transmission_files)
register(
    Category(
        name="prepared_exports",
        model=ExportFile,
        fields=["token"],
        files=["file"],
        export=lambda person: [],
        erase=erase_exports,
        withheld={
            "token": "The secret part of a download link, useless once it expires.",
            "file": "An earlier download of this same data.",
        },
        note="Prepared downloads are deleted.",
    )
)
register(
    Category(
        name="audit",
        kept_on_erasure={
            "detail": "The audit trail of requests and erasures is our accountability record; its detail holds no personal data (tested)."
        },
        owner=lambda person: Q(subject=f"user:{person.pk}"),
        model=AuditEvent,
        fields=["detail", "subject", "old_value", "new_value"],
        export=lambda person: list(
            AuditEvent.objects.filter(subject=f"user:{person.pk}").values(
                "created_at", "action", "detail", "old_value", "new_value"
            )
        ),
        erase=lambda person: AuditEvent.objects.filter(
            subject=f"user:{person.pk}"
        ).update(old_value="", new_value=""),
        note="Kept: it records what was done, by whom and when; the old and new "
        "values of a corrected field are cleared.",
    )
)
