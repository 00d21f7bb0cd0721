"""The privacy app's own records about a person."""

from django.db.models import Q

from privacy.registry import Category, register

from .models import AuditEvent, DataSubjectRequest, Disclosure, ExportFile


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
    return list(
        Disclosure.objects.filter(person=person).values(
            "disclosed_at", "recipient", "fields", "purpose", "reference"
        )
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
register(
    Category(
        name="disclosures",
        kept_on_erasure={
            "purpose": "The record of what we shared with whom is our accountability record (UK GDPR Art. 5(2)); it names the recipient and the kinds of data, never the data.",
            "recipient": "The record of what we shared with whom is our accountability record (UK GDPR Art. 5(2)); it names the recipient and the kinds of data, never the data.",
            "fields": "The record of what we shared with whom is our accountability record (UK GDPR Art. 5(2)); it names the recipient and the kinds of data, never the data.",
            "reference": "The record of what we shared with whom is our accountability record (UK GDPR Art. 5(2)); it names the recipient and the kinds of data, never the data.",
        },
        model=Disclosure,
        fields=["purpose", "recipient", "fields", "reference"],
        export=export_disclosures,
        erase=lambda person: None,
        note="Kept as the legal record of what was shared, against the anonymised account.",
    )
)
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
