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
from django.db.models import Count, Min
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.four_eyes import may_act_alone_on, second_approver_refusal
from accounts.models import User
from config import outbox
from config.spreadsheet import safe_cell

from . import erasure_log, registry
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
    old_value: str = "",
    new_value: str = "",
) -> AuditEvent:
    """Record who did what to whose data. `detail` never holds personal data;
    a correction's old and new values go in `old_value` and `new_value`, which
    erasure and the retention rule clear."""
    return AuditEvent.objects.create(
        actor=by,
        action=action,
        subject=f"user:{person.pk}" if person else "",
        request=request,
        detail=detail[:300],
        old_value=old_value,
        new_value=new_value,
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


def ask_for_correction(
    person: User, *, what_is_wrong: str, should_say: str
) -> DataSubjectRequest:
    """A correction request from "Your data": what is wrong and what it should
    say, in the person's words, for staff to act on."""
    details = _("What is wrong: %(wrong)s\nWhat it should say: %(right)s") % {
        "wrong": " ".join(what_is_wrong.split())[:900],
        "right": " ".join(should_say.split())[:900],
    }
    return create_request(
        person, DataSubjectRequest.Kind.RECTIFICATION, details=details
    )


def ask_for_access(person: User, *, looking_for: str) -> DataSubjectRequest:
    """An access request for something the person cannot find in the service
    or in their download."""
    details = _("Looking for: %(what)s") % {
        "what": " ".join(looking_for.split())[:1900]
    }
    return create_request(person, DataSubjectRequest.Kind.ACCESS, details=details)


def requests_of(person: User):
    """The person's requests, newest first, for "Your data"."""
    return DataSubjectRequest.objects.filter(person=person).order_by(
        "-received_at", "-pk"
    )


def correction_choices() -> list[tuple[str, str]]:
    return [(c.key, c.label) for c in registry.correctable().values()]


def correct_personal_data(
    dsr: DataSubjectRequest, *, field: str, value: str, by: User
) -> AuditEvent:
    """Staff correct one field (from the registry's safe list) for a correction
    request. The old value is kept only in the audit event, with the new one;
    never on the request. Correcting a field to what it already says records
    nothing, so a double submit is one correction."""
    correctable = registry.correctable().get(field)
    if correctable is None:
        raise PrivacyError(_("That field cannot be corrected here."))
    with transaction.atomic():
        dsr = _locked_request(dsr)
        if dsr.kind != DataSubjectRequest.Kind.RECTIFICATION:
            raise PrivacyError(_("Only a correction request can correct data."))
        if not dsr.is_open:
            raise PrivacyError(_("This request is already closed."))
        person = dsr.person
        if person is None or person.erased_at is not None:
            raise PrivacyError(
                _("This request names no account that can be corrected.")
            )
        if not dsr.identity_verified:
            raise PrivacyError(_("Verify the person's identity first."))
        person = User.objects.select_for_update(of=("self",)).get(pk=person.pk)
        old = str(correctable.read(person) or "")
        try:
            correctable.write(person, value)
        except ValueError as exc:
            raise PrivacyError(str(exc)) from exc
        new = str(correctable.read(person) or "")
        if new == old:
            raise PrivacyError(
                _("%(field)s already says that: nothing was changed.")
                % {"field": correctable.label}
            )
        if dsr.status == DataSubjectRequest.Status.RECEIVED:
            dsr.status = DataSubjectRequest.Status.IN_PROGRESS
            dsr.save()
        return audit(
            "data corrected",
            person=person,
            by=by,
            request=dsr,
            detail=field,
            old_value=old,
            new_value=new,
        )


def clear_old_corrected_values() -> int:
    """Retention: a correction's old and new values are cleared from the audit
    trail after `RETENTION_CORRECTED_VALUES_MONTHS`; the event itself stays."""
    from dateutil.relativedelta import relativedelta

    months = settings.PRIVACY_RETENTION["corrected_values_months"]
    cutoff = timezone.now() - relativedelta(months=months)
    return (
        AuditEvent.objects.filter(created_at__lt=cutoff)
        .exclude(old_value="", new_value="")
        .update(old_value="", new_value="")
    )


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


def _object_to(purpose: str, action: str, person: User, *, request=None, by=None):
    from consent.models import PURPOSE_CHANNELS, ConsentRecord
    from consent.services import record_consent

    for channel in PURPOSE_CHANNELS[purpose]:
        record_consent(person, purpose, channel, False, ConsentRecord.Source.OBJECTION)
    for forget in registry.on_objection().values():
        forget(person, purpose)
    audit(action, person=person, by=by, request=request)


def object_to_profiling(person: User, *, request=None, by=None) -> None:
    _object_to("profiling", "objection to profiling", person, request=request, by=by)


def object_to_analytics(person: User, *, request=None, by=None) -> None:
    _object_to("analytics", "objection to analytics", person, request=request, by=by)


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


def complete_by_hand(dsr: DataSubjectRequest, *, by: User) -> None:
    """Staff mark a request done ("Mark completed and tell the person"). An
    erasure or a restriction is done only once it has been carried out, so the
    person is never told their data is erased (or restricted) while it is not:
    those are completed by their own actions."""
    person = dsr.person
    if dsr.kind == DataSubjectRequest.Kind.ERASURE and (
        person is not None and person.erased_at is None
    ):
        raise PrivacyError(
            _(
                "Request #%(pk)s is an erasure that has not been carried out: "
                "erase the data (or refuse the request) instead."
            )
            % {"pk": dsr.pk}
        )
    if dsr.kind == DataSubjectRequest.Kind.RESTRICTION and (
        person is not None and not person.processing_restricted
    ):
        raise PrivacyError(
            _(
                "Request #%(pk)s asks for restriction, which is not in place: "
                "restrict processing first."
            )
            % {"pk": dsr.pk}
        )
    complete_request(dsr, by=by)


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
    """Where imported data about the person came from, by category: for each
    category whose model records an import (`import_source`, `imported_at`),
    one grouped query of the person's imported rows, so the page that shows
    this costs the same however much is held about them. `imported_at` is
    the earliest import from that source."""
    found = []
    models_seen = set()
    for category in registry.categories():
        model = category.model
        if model in models_seen or not _records_imports(model):
            continue
        models_seen.add(model)
        rows = (
            model._default_manager.filter(category.owner_q(person))
            .exclude(import_source="")
            .values("import_source")
            .annotate(count=Count("pk", distinct=True), imported_at=Min("imported_at"))
            .order_by("import_source")
        )
        found.extend(
            {
                "category": category.name.replace("_", " "),
                "source": row["import_source"],
                "imported_at": row["imported_at"],
                "count": row["count"],
            }
            for row in rows
        )
    return found


def _records_imports(model) -> bool:
    names = {f.name for f in model._meta.get_fields()}
    return {"import_source", "imported_at"} <= names


def export_now_or_later(person: User) -> bytes | None:
    """The ZIP at once, or None when it is too big for a request: then a task
    prepares it and emails a link (PRIVACY_EXPORT_INLINE_MAX_ROWS).

    The rows held are counted first, a category at a time and only as far as
    the limit, so a person with years of history is answered at once rather
    than after everything about them was read into memory; what is gathered
    is checked again, since an export may give more rows than it holds."""
    from . import tasks

    limit = settings.PRIVACY_EXPORT_INLINE_MAX_ROWS
    if _holds_more_rows_than(person, limit):
        tasks.prepare_export.delay_on_commit(person.pk)
        return None
    data = _collect(person)
    if sum(len(rows) for rows in data.values()) > limit:
        tasks.prepare_export.delay_on_commit(person.pk)
        return None
    return export_person(person, by=person, data=data)


def _holds_more_rows_than(person: User, limit: int) -> bool:
    """Whether the person's rows in all the categories come to more than
    `limit`: each category counted only up to what is still allowed, and no
    further category once they do."""
    left = limit
    for category in registry.categories():
        left -= category.rows_of(person).order_by().values("pk")[: left + 1].count()
        if left < 0:
            return True
    return False


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
    person: User,
    request: DataSubjectRequest | None = None,
    *,
    by: User | None = None,
    replayed_from: str = "",
) -> None:
    """Remove or irreversibly anonymise everything about the person, keeping
    anonymous rows where counts or the law need them. Safe to run twice.
    Mail still waiting in any outbox for the person is cancelled first; each
    app's eraser withdraws what is still running (bookings: future places and
    waiting-list places pass to the next person).

    A first erasure is appended to the erasure log (`erasure_log`) before it
    commits; `replayed_from` names the backup when a restore erases again."""
    with transaction.atomic():
        first_time = person.erased_at is None
        if first_time:
            outbox.cancel_pending_to(person.email)
        for category in registry.categories():
            if category.name == "account":
                continue  # last: other erasers find the person's rows by the account
            category.erase(person)
        next(c for c in registry.categories() if c.name == "account").erase(person)
        detail = f"replayed after restoring {replayed_from}" if replayed_from else ""
        audit("erasure", person=person, by=by, request=request, detail=detail)
        if first_time and not replayed_from:
            # Last, inside the transaction: an erasure whose line cannot be
            # written does not happen, since a restore would bring it back.
            erasure_log.record_erasure(
                person.pk, erased_at=person.erased_at or timezone.now()
            )


def replay_logged_erasures(*, restored_from: str) -> dict[str, int]:
    """After a restore: erase again everyone the erasure log names whom the
    restored database still holds unerased. Counts, never names."""
    erasures, unreadable = erasure_log.logged_erasures()
    ids = list(dict.fromkeys(e.person_id for e in erasures))
    people = User.objects.in_bulk(ids)
    counts = {"erased again": 0, "already erased": 0, "not in the backup": 0}
    for person_id in ids:
        person = people.get(person_id)
        if person is None:
            counts["not in the backup"] += 1
        elif person.erased_at is not None:
            counts["already erased"] += 1
        else:
            erase_person(person, replayed_from=restored_from)
            counts["erased again"] += 1
    counts["unreadable lines"] = len(unreadable)
    return counts


# --- four eyes on erasure ---------------------------------------------------------
#
# The rule is accounts.four_eyes (may_act_alone_on, second_approver_refusal): a
# learner's account is erased by one data-protection lead; a staff or superuser
# account only by a superuser (not their own) alone, or when one person with the
# erasure permission asks and a second, different one approves. Neither the
# person who asked nor the account's owner may approve, and a superuser's
# account needs a superuser as the one who asks or the one who approves.

ERASE_PERMISSION = "privacy.erase_personal_data"
ERASED_OUTCOME = "We have erased your personal data."


def erasure_alone_refusal(person: User, *, by: User) -> str:
    """Why `by` alone may not erase `person`'s account, or "" when they may."""
    if may_act_alone_on(person, by=by):
        return ""
    if person.pk == by.pk:
        return _(
            "This is your own account: another person must approve its "
            "erasure. Nothing was erased. Choose “Ask a second approver to "
            "erase” to record the request."
        )
    if person.is_superuser:
        return _(
            "This is a superuser's account: one person alone cannot erase it. "
            "Nothing was erased. Choose “Ask a second approver to erase” to "
            "record the request; a superuser must then approve it."
        )
    return _(
        "This is a staff account: one person alone cannot erase it. Nothing "
        "was erased. Choose “Ask a second approver to erase” to record the "
        "request; another data-protection lead or a superuser must then "
        "approve it."
    )


def _check_erasure_request(dsr: DataSubjectRequest) -> None:
    if dsr.person is None or dsr.person.erased_at is not None:
        raise PrivacyError(_("This request names no account that can be erased."))
    if dsr.kind != DataSubjectRequest.Kind.ERASURE:
        raise PrivacyError(_("Only an erasure request can erase data."))
    if not dsr.identity_verified:
        raise PrivacyError(_("Verify the person's identity first."))


def _erase_on(dsr: DataSubjectRequest, *, by: User) -> None:
    _clear_approval_request(dsr)  # a superuser acting alone settles it too
    complete_request(dsr, by=by, outcome=ERASED_OUTCOME)
    erase_person(dsr.person, dsr, by=by)


def erase_on_request(dsr: DataSubjectRequest, *, by: User) -> None:
    """The erasure a request asks for, by one person alone. The account is
    read afresh under the request's lock, so the rule sees it as it is now."""
    with transaction.atomic():
        dsr = _locked_request(dsr)
        _check_erasure_request(dsr)
        problem = erasure_alone_refusal(dsr.person, by=by)
        if problem:
            raise PrivacyError(problem)
        _erase_on(dsr, by=by)


def _locked_request(dsr: DataSubjectRequest) -> DataSubjectRequest:
    return (
        DataSubjectRequest.objects.select_for_update(of=("self",))
        .select_related("person", "approval_requested_by")
        .get(pk=dsr.pk)
    )


def _clear_approval_request(dsr: DataSubjectRequest) -> None:
    dsr.approval_requested_by = None
    dsr.approval_requested_at = None


def request_erasure_approval(dsr: DataSubjectRequest, *, by: User) -> None:
    """Record that `by` asks for a staff or superuser account's erasure; the
    account is not touched until a second person approves."""
    with transaction.atomic():
        dsr = _locked_request(dsr)
        _check_erasure_request(dsr)
        if not dsr.is_open:
            raise PrivacyError(_("This request is already closed."))
        if not dsr.person.is_privileged:
            raise PrivacyError(
                _(
                    "This is not a staff account: choose “Erase personal data”; "
                    "no second approver is needed."
                )
            )
        if dsr.awaiting_second_approver:
            raise PrivacyError(_("This erasure is already awaiting a second approver."))
        if not by.has_perm(ERASE_PERMISSION):
            raise PrivacyError(_("You do not hold the permission to ask for this."))
        dsr.approval_requested_by = by
        dsr.approval_requested_at = timezone.now()
        dsr.approval_refusal_reason = ""
        dsr.save()
        audit(
            "erasure requested",
            person=dsr.person,
            by=by,
            request=dsr,
            detail="awaiting a second approver",
        )


def erasure_approval_refusal(dsr: DataSubjectRequest, *, by: User) -> str:
    """Why `by` cannot approve the pending erasure, or "" when they can."""
    if not dsr.awaiting_second_approver:
        return _(
            "Nobody has asked for a second approver on this request: choose "
            "“Ask a second approver to erase” first."
        )
    return second_approver_refusal(
        dsr.person,
        requested_by=dsr.approval_requested_by,
        approver=by,
        perm=ERASE_PERMISSION,
    )


def approve_erasure(dsr: DataSubjectRequest, *, by: User) -> User:
    """The second person approves: the erasure runs (the person is told first,
    as for any erasure). Returns who asked for it."""
    with transaction.atomic():
        dsr = _locked_request(dsr)
        _check_erasure_request(dsr)
        problem = erasure_approval_refusal(dsr, by=by)
        if problem:
            raise PrivacyError(problem)
        requester = dsr.approval_requested_by
        _clear_approval_request(dsr)
        dsr.save()
        audit(
            "erasure approved",
            person=dsr.person,
            by=by,
            request=dsr,
            detail=f"asked for by user:{requester.pk}",
        )
        _erase_on(dsr, by=by)
        return requester


def reject_erasure(dsr: DataSubjectRequest, *, by: User, reason: str) -> str:
    """Reject (a second person) or cancel (the one who asked) a pending
    erasure, with the reason; nothing is erased. Returns "cancelled" or
    "rejected"."""
    with transaction.atomic():
        reason = " ".join(reason.split())[:500]
        if not reason:
            raise PrivacyError(_("Give the reason for rejecting or cancelling it."))
        dsr = _locked_request(dsr)
        if not dsr.awaiting_second_approver:
            raise PrivacyError(_("This request is not awaiting a second approver."))
        if not by.has_perm(ERASE_PERMISSION):
            raise PrivacyError(_("You do not hold the permission to reject this."))
        asked_by = dsr.approval_requested_by_id
        outcome = "cancelled" if asked_by == by.pk else "rejected"
        _clear_approval_request(dsr)
        dsr.approval_refusal_reason = reason
        dsr.save()
        # The reason stays on the request (cleared if the person is erased), not in
        # the audit trail, which must hold no personal data.
        audit(
            f"erasure {outcome}",
            person=dsr.person,
            by=by,
            request=dsr,
            detail=f"asked for by user:{asked_by}" if asked_by else "",
        )
        return outcome


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
registry.register_retention(
    "corrected values in the audit trail", clear_old_corrected_values
)
