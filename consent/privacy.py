"""Consent records: exported in full; on erasure reduced to one anonymous marker."""

from privacy.registry import Category, not_personal, register

from .models import ConsentRecord, ContactPoint, PolicyVersion, ProcessingPurpose


def export_consent(person) -> list[dict]:
    return [
        {
            "recorded_at": r.recorded_at,
            "purpose": r.get_purpose_display(),
            "channel": r.get_channel_display(),
            "granted": r.granted,
            "how": r.get_source_display(),
            "note": r.note,
            "privacy_notice_version": r.policy_version.version
            if r.policy_version
            else "",
        }
        for r in ConsentRecord.objects.filter(person=person).select_related(
            "policy_version"
        )
    ]


def erase_consent(person) -> None:
    # The one place consent rows are removed: erasure. The base manager's raw
    # delete bypasses the append-only guard on purpose.
    ConsentRecord._base_manager.filter(person=person)._raw_delete(
        ConsentRecord.objects.db
    )
    ConsentRecord.objects.create(
        person=person,
        purpose="marketing",
        channel="email",
        granted=False,
        source="erasure",
    )


register(
    Category(
        name="consent_history",
        model=ConsentRecord,
        fields=["note"],
        export=export_consent,
        erase=erase_consent,
        note="Replaced by one anonymous 'erased' marker, so nothing is sent again.",
    )
)
not_personal(
    PolicyVersion, ["version", "summary_of_changes", "body"], reason="Published text."
)
not_personal(
    ProcessingPurpose,
    ["name", "description", "data_categories", "recipients", "retention"],
    reason="Published text.",
)
not_personal(
    ContactPoint,
    ["email", "phone", "address", "hours", "note"],
    reason="A team's published contact details, not a person's.",
)
