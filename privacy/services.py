"""Data-subject rights: export, erasure, restriction, objection, retention and
the audit trail. The privacy app never imports the apps whose data it handles:
it walks the registry that each app's privacy.py fills."""

import csv
import io
import json
import secrets
import zipfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import outbox
from config.spreadsheet import safe_cell

from . import registry
from .models import AuditEvent, DataSubjectRequest, Disclosure, ExportFile, RetentionRun


class PrivacyError(Exception):
    """A refusal whose message is safe to show."""


def audit(
    action: str,
    *,
    person: User | None,
    by: User | None = None,
    request: DataSubjectRequest | None = None,
    detail: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=by,
        action=action,
        subject=f"user:{person.pk}" if person else "",
        request=request,
        detail=detail[:300],
    )


def log_disclosure(
    person: User,
    *,
    recipient: str,
    fields: list[str],
    purpose: str,
    reference: str = "",
) -> Disclosure:
    disclosure = Disclosure.objects.create(
        person=person,
        recipient=recipient,
        fields=", ".join(fields),
        purpose=purpose,
        reference=reference,
    )
    audit("disclosure", person=person, detail=f"{', '.join(fields)} to {recipient}")
    return disclosure


# --- requests -----------------------------------------------------------------


def create_request(
    person: User,
    kind: str,
    *,
    channel: str = DataSubjectRequest.Channel.WEB,
    details: str = "",
    by: User | None = None,
) -> DataSubjectRequest:
    """A new request. Every objection (direct marketing, profiling, analytics)
    takes effect at once and is recorded in the consent ledger."""
    with transaction.atomic():
        dsr = DataSubjectRequest.objects.create(
            person=person,
            kind=kind,
            channel=channel,
            details=details.strip()[:2000],
            logged_by=by,
        )
        apply = OBJECTIONS.get(kind)
        if apply is not None:
            apply(person, request=dsr, by=by)
            dsr.status = DataSubjectRequest.Status.COMPLETED
            dsr.completed_at = timezone.now()
            dsr.save()
        audit("request received", person=person, by=by, request=dsr, detail=kind)
    return dsr


def object_to_direct_marketing(person: User, *, request=None, by=None) -> None:
    from consent.models import MARKETING_PURPOSES, PURPOSE_CHANNELS, ConsentRecord
    from consent.services import record_consent

    User.objects.filter(pk=person.pk).update(objects_to_direct_marketing=True)
    person.objects_to_direct_marketing = True
    for purpose in MARKETING_PURPOSES:
        for channel in PURPOSE_CHANNELS[purpose]:
            record_consent(
                person, purpose, channel, False, ConsentRecord.Source.OBJECTION
            )
    audit("objection to direct marketing", person=person, by=by, request=request)


def _object_to(purpose: str, action: str):
    def apply(person: User, *, request=None, by=None) -> None:
        from consent.models import PURPOSE_CHANNELS, ConsentRecord
        from consent.services import record_consent

        for channel in PURPOSE_CHANNELS[purpose]:
            record_consent(
                person, purpose, channel, False, ConsentRecord.Source.OBJECTION
            )
        audit(action, person=person, by=by, request=request)

    return apply


object_to_profiling = _object_to("profiling", "objection to profiling")
object_to_analytics = _object_to("analytics", "objection to analytics")
OBJECTIONS = {
    DataSubjectRequest.Kind.OBJECT_MARKETING: object_to_direct_marketing,
    DataSubjectRequest.Kind.OBJECT_PROFILING: object_to_profiling,
    DataSubjectRequest.Kind.OBJECT_ANALYTICS: object_to_analytics,
}


def extend_request(
    dsr: DataSubjectRequest, *, months: int, reason: str, by: User
) -> None:
    if not 1 <= months <= 2:
        raise PrivacyError(_("A request can be extended by one or two months."))
    if not reason.strip():
        raise PrivacyError(_("Give the reason for the extension."))
    dsr.extension_months = months
    dsr.extension_reason = reason.strip()[:500]
    dsr.save()
    audit(
        "request extended",
        person=dsr.person,
        by=by,
        request=dsr,
        detail=f"{months} months",
    )


def complete_request(dsr: DataSubjectRequest, *, by: User, outcome: str = "") -> None:
    """Mark a request done and tell the person (sent at once, so that it still
    reaches them when the request was for erasure)."""
    dsr.status = DataSubjectRequest.Status.COMPLETED
    dsr.completed_at = timezone.now()
    dsr.completed_by = by
    dsr.save()
    person = dsr.person
    if person is not None and person.erased_at is None:
        body = render_to_string(
            "privacy/email/request_completed.txt",
            {
                "request": dsr,
                "person": person,
                "outcome": outcome,
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
            },
        )
        EmailMessage(
            subject=_("Your request about your data: %(kind)s")
            % {"kind": dsr.get_kind_display()},
            body=body,
            to=[person.email],
        ).send(fail_silently=True)
    audit("request completed", person=person, by=by, request=dsr)


# --- export --------------------------------------------------------------------


def _collect(person: User) -> dict[str, list[dict]]:
    return {c.name: c.export(person) for c in registry.categories()}


def export_person(
    person: User, *, by: User | None = None, request=None, data: dict | None = None
) -> bytes:
    """A ZIP with data.json (everything, machine-readable), one CSV per category
    and any files the person gave us. `data` is what `_collect` gathered, when
    the caller already has it."""
    data = _collect(person) if data is None else data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            json.dumps(
                {"exported_at": timezone.now(), "categories": data},
                cls=DjangoJSONEncoder,
                indent=2,
            ),
        )
        for name, rows in data.items():
            out = io.StringIO()
            columns = sorted({k for row in rows for k in row}) or ["(none)"]
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: safe_cell(v) for k, v in row.items()})
            archive.writestr(f"{name}.csv", out.getvalue())
        for category in registry.categories():
            if not category.exported_files:
                continue
            for obj in category.rows_of(person).order_by("pk"):
                for file_field in category.exported_files:
                    stored = getattr(obj, file_field)
                    if stored and stored.storage.exists(stored.name):
                        with stored.open("rb") as fh:
                            archive.writestr(
                                _export_file_name(category, obj, stored), fh.read()
                            )
        archive.writestr(
            "README.txt",
            render_to_string(
                "privacy/export_readme.txt",
                {
                    "person": person,
                    "site_name": settings.SITE_NAME,
                    "categories": registry.categories(),
                },
            ),
        )
    audit("export", person=person, by=by, request=request)
    return buffer.getvalue()


def _export_file_name(category: registry.Category, obj, stored) -> str:
    # The row's id keeps two uploads with the same name apart.
    return f"files/{category.name}/{obj.pk}-{stored.name.rsplit('/', 1)[-1]}"


def data_sources(person: User) -> list[dict]:
    """Where imported data about the person came from, by category."""
    seen = {}
    for name, rows in _collect(person).items():
        for row in rows:
            source = row.get("imported_from")
            if source:
                key = (name, source)
                seen.setdefault(
                    key,
                    {
                        "category": name.replace("_", " "),
                        "source": source,
                        "imported_at": row.get("imported_at"),
                        "count": 0,
                    },
                )
                seen[key]["count"] += 1
    return list(seen.values())


def export_now_or_later(person: User) -> bytes | None:
    """The ZIP at once, or None when it is too big for a request: then a task
    prepares it and emails a link (PRIVACY_EXPORT_INLINE_MAX_ROWS)."""
    from . import tasks

    data = _collect(person)
    if (
        sum(len(rows) for rows in data.values())
        > settings.PRIVACY_EXPORT_INLINE_MAX_ROWS
    ):
        tasks.prepare_export.delay_on_commit(person.pk)
        return None
    return export_person(person, by=person, data=data)


def prepare_export(person: User) -> ExportFile:
    """Build the ZIP into private storage and email a link that needs sign-in
    and expires (`PRIVACY_EXPORT_LINK_HOURS`)."""
    content = export_person(person)
    token = secrets.token_urlsafe(32)
    export = ExportFile(
        person=person,
        token=token,
        expires_at=timezone.now()
        + timezone.timedelta(hours=settings.PRIVACY_EXPORT_LINK_HOURS),
    )
    export.file.save(f"{token}.zip", ContentFile(content), save=False)
    export.save()
    EmailMessage(
        subject=_("Your data is ready to download"),
        body=render_to_string(
            "privacy/email/export_ready.txt",
            {
                "person": person,
                "export": export,
                "site_url": settings.SITE_URL,
                "site_name": settings.SITE_NAME,
            },
        ),
        to=[person.email],
    ).send(fail_silently=False)
    return export


# --- erasure and restriction ----------------------------------------------------


def erasure_plan() -> list[dict]:
    """What erasure removes and what it keeps, and why: shown before confirming."""
    return [
        {"name": c.name.replace("_", " "), "note": c.note}
        for c in registry.categories()
    ]


def erase_person(
    person: User, request: DataSubjectRequest | None = None, *, by: User | None = None
) -> None:
    """Remove or irreversibly anonymise everything about the person, keeping
    anonymous rows where counts or the law need them. Safe to run twice.
    Mail still waiting in any outbox for the person is cancelled first; each
    app's eraser withdraws what is still running (bookings: future places and
    waiting-list places pass to the next person)."""
    with transaction.atomic():
        if person.erased_at is None:
            outbox.cancel_pending_to(person.email)
        for category in registry.categories():
            if category.name == "account":
                continue  # last: other erasers find the person's rows by the account
            category.erase(person)
        next(c for c in registry.categories() if c.name == "account").erase(person)
        audit("erasure", person=person, by=by, request=request)


def restrict_processing(
    person: User, request: DataSubjectRequest | None = None, *, by: User | None = None
) -> None:
    """Stop new processing: no bookings, marketing, profiling or analytics
    (each asks `processing_restricted`), and withdraw what is still running for
    the person (each app's `register_on_restriction` hook)."""
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(processing_restricted=True)
        person.processing_restricted = True
        for apply in registry.on_restriction().values():
            apply(person, by)
        audit("restriction", person=person, by=by, request=request)


def lift_restriction(
    person: User, request: DataSubjectRequest | None = None, *, by: User | None = None
) -> None:
    User.objects.filter(pk=person.pk).update(processing_restricted=False)
    person.processing_restricted = False
    audit("restriction lifted", person=person, by=by, request=request)


# --- retention -----------------------------------------------------------------


def apply_retention() -> dict[str, int]:
    """Run every registered retention rule; record counts, never contents."""
    results = {}
    for name, rule in registry.retention_rules().items():
        removed = rule()
        RetentionRun.objects.create(category=name, removed=removed)
        results[name] = removed
    return results


def remove_expired_exports() -> int:
    removed = 0
    for export in ExportFile.objects.filter(expires_at__lt=timezone.now()):
        export.file.delete(save=False)
        export.delete()
        removed += 1
    return removed


registry.register_retention("expired data exports", remove_expired_exports)
