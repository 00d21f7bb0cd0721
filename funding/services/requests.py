"""Funding requests: drafting, submitting, the manager's support, officers'
decisions (one by one or as a panel), documents, invoices, payments, progress.

Every state change locks the request row (`select_for_update`) before its
support links (one order everywhere, so two changes cannot deadlock), records a
`FundingEvent` and, after commit, emails the learner. Submission also locks the
person's row so two submissions cannot both spend the same allowance.
"""

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import approvers_of, users_with_email

from .. import selectors
from ..models import (
    FundingDocument,
    FundingRequest,
    FundingRound,
    Invoice,
    ManagerSupport,
    Payment,
    ProgressUpdate,
)
from .common import (
    FundingError,
    hash_token,
    queue_mail,
    record_decision,
    record_event,
    safe_name,
    sniff_file,
)

Status = FundingRequest.Status

EDITABLE_FIELDS = (
    "round",
    "course_name",
    "provider",
    "provider_name",
    "cost",
    "start_date",
    "reason",
    "manager_name",
    "manager_email",
    "documents_confirmed",
)


# --- rules on single fields (forms show these beside the field) ---------------


def max_cost() -> Decimal:
    return Decimal(str(getattr(settings, "FUNDING_MAX_COST", 50000)))


def cost_problem(cost: Decimal | None) -> str | None:
    if cost is None:
        return None
    if cost <= 0:
        return _("Enter a cost more than £0")
    if cost > max_cost():
        return _("The cost must be £%(max)s or less") % {"max": f"{max_cost():,.0f}"}
    return None


def start_date_problem(day: dt.date | None) -> str | None:
    if day is None:
        return None
    today = timezone.localdate()
    past_days = int(getattr(settings, "FUNDING_START_DATE_PAST_DAYS", 90))
    if day < today - dt.timedelta(days=past_days):
        return _(
            "The start date must be no more than %(days)d days ago. We cannot fund "
            "a course that started long ago."
        ) % {"days": past_days}
    if day > today + dt.timedelta(days=2 * 366):
        return _("The start date must be within the next 2 years")
    return None


def manager_email_problem(person: User, email: str) -> str | None:
    if email and email.strip().lower() == person.email.lower():
        return _("Enter your manager's email address, not your own")
    return None


def eligibility_problem(person: User, funding_round: FundingRound) -> str | None:
    """Why this person cannot ask this round for money, or None."""
    today = timezone.localdate()
    if funding_round.opens_on > today:
        return _("This funding round opens on %(day)s.") % {
            "day": funding_round.opens_on.strftime("%-d %B %Y")
        }
    if funding_round.closes_on < today:
        return _("This funding round closed on %(day)s.") % {
            "day": funding_round.closes_on.strftime("%-d %B %Y")
        }
    stream = funding_round.stream
    profile = getattr(person, "profile", None)
    roles = stream.job_roles
    if roles:
        title = (profile.job_title if profile else "").strip()
        if not title:
            return _(
                "%(stream)s is for these roles: %(roles)s. Add your job title to "
                "your profile so we can check."
            ) % {"stream": stream.name, "roles": ", ".join(roles)}
        if not any(role.lower() in title.lower() for role in roles):
            return _(
                "%(stream)s is for these roles: %(roles)s. Your job title, "
                "%(title)s, is not one of them."
            ) % {"stream": stream.name, "roles": ", ".join(roles), "title": title}
    kinds = stream.eligible_workplace_kinds or []
    if kinds:
        from accounts.models import Organisation

        labels = dict(Organisation.Kind.choices)
        allowed = ", ".join(str(labels.get(k, k)).lower() for k in kinds)
        organisation = profile.organisation if profile else None
        if organisation is None:
            return _(
                "%(stream)s is for people working in a %(kinds)s. Add your "
                "workplace to your profile so we can check."
            ) % {"stream": stream.name, "kinds": allowed}
        if organisation.kind not in kinds:
            return _(
                "%(stream)s is for people working in a %(kinds)s; %(org)s is not."
            ) % {"stream": stream.name, "kinds": allowed, "org": organisation.name}
    return None


def allowance_problem(
    person: User,
    funding_round: FundingRound,
    cost: Decimal | None,
    start_date: dt.date | None,
    *,
    exclude_pk: int | None = None,
) -> str | None:
    if cost is None:
        return None
    remaining = selectors.allowance_remaining(
        person=person,
        stream=funding_round.stream,
        day=start_date or timezone.localdate(),
        exclude_pk=exclude_pk,
    )
    if cost > remaining:
        return _(
            "You can ask %(stream)s for up to £%(left)s more this financial year "
            "(£%(allowance)s a year). Lower the cost to £%(left)s or less."
        ) % {
            "stream": funding_round.stream.name,
            "left": f"{remaining:,.2f}",
            "allowance": f"{funding_round.stream.annual_allowance:,.2f}",
        }
    return None


# --- learner --------------------------------------------------------------------


def _locked(funding_request: FundingRequest) -> FundingRequest:
    return (
        FundingRequest.objects.select_for_update(of=("self",))
        .select_related("person", "round__stream", "provider")
        .get(pk=funding_request.pk)
    )


def save_funding_request(
    person: User, *, funding_request: FundingRequest | None = None, **fields
) -> FundingRequest:
    """Create or update a draft (or a request reopened for more information)."""
    with transaction.atomic():
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            raise ValueError(f"Not editable: {sorted(unknown)}")
        if not (fields.get("course_name") or "").strip() and funding_request is None:
            raise FundingError(_("Enter the name of the course"))
        for problem in (
            cost_problem(fields.get("cost")),
            start_date_problem(fields.get("start_date")),
            manager_email_problem(person, fields.get("manager_email", "")),
        ):
            if problem:
                raise FundingError(problem)
        if funding_request is None:
            funding_request = FundingRequest(person=person)
        else:
            funding_request = _locked(funding_request)
            if funding_request.person_id != person.pk:
                raise FundingError(_("You can only change your own requests."))
            if not funding_request.is_editable:
                raise FundingError(
                    _("This request has been submitted and can no longer be changed.")
                )
        for name, value in fields.items():
            setattr(
                funding_request,
                name,
                value.strip() if isinstance(value, str) else value,
            )
        if funding_request.provider_id:
            funding_request.provider_name = funding_request.provider.name
        funding_request.save()
        return funding_request


def missing_for_submission(funding_request: FundingRequest) -> list[str]:
    labels = {
        "course_name": _("course name"),
        "provider_name": _("course provider"),
        "cost": _("cost"),
        "start_date": _("start date"),
        "reason": _("how the course helps your role"),
        "manager_name": _("manager's name"),
        "manager_email": _("manager's work email"),
    }
    return [
        str(label)
        for name, label in labels.items()
        if getattr(funding_request, name) in (None, "")
    ]


def submit_funding_request(
    funding_request: FundingRequest, *, by: User
) -> FundingRequest:
    """Send a draft (or a reopened request) for review. The manager is asked for
    support unless they already gave it."""
    with transaction.atomic():
        # One submission at a time per person: the allowance check below must see
        # every other committed request.
        User.objects.select_for_update().filter(pk=funding_request.person_id).first()
        funding_request = _locked(funding_request)
        person = funding_request.person
        if person is None or by.pk != person.pk:
            raise FundingError(_("You can only submit your own requests."))
        if not funding_request.is_editable:
            raise FundingError(_("This request has already been submitted."))
        missing = missing_for_submission(funding_request)
        if missing:
            raise FundingError(
                _("Before you submit, add the %(fields)s.")
                % {"fields": ", ".join(missing)}
            )
        for problem in (
            cost_problem(funding_request.cost),
            start_date_problem(funding_request.start_date),
            manager_email_problem(person, funding_request.manager_email),
        ):
            if problem:
                raise FundingError(problem)
        funding_round = funding_request.round
        if funding_round is None and selectors.rounds_open().exists():
            raise FundingError(_("Choose the funding round you are applying to."))
        if funding_round is not None:
            problem = eligibility_problem(person, funding_round) or allowance_problem(
                person,
                funding_round,
                funding_request.cost,
                funding_request.start_date,
                exclude_pk=funding_request.pk,
            )
            if problem:
                raise FundingError(problem)
        profile = getattr(person, "profile", None)
        funding_request.organisation = profile.organisation if profile else None
        funding_request.submitted_at = timezone.now()
        still_supported = funding_request.support_links.filter(
            supported=True, manager_email__iexact=funding_request.manager_email
        ).exists()
        if still_supported:
            record_event(
                funding_request,
                to_status=Status.UNDER_REVIEW,
                by=by,
                note=_(
                    "Sent back with more information. Your manager's support stands."
                ),
            )
        else:
            record_event(
                funding_request,
                to_status=Status.AWAITING_MANAGER,
                by=by,
                note=_("Sent to %(manager)s for a statement of support.")
                % {"manager": funding_request.manager_name},
            )
            _send_support_link(funding_request)
        return funding_request


def support_link_days() -> int:
    return int(getattr(settings, "FUNDING_SUPPORT_LINK_DAYS", 14))


def _send_support_link(
    funding_request: FundingRequest, *, reminder: bool = False
) -> ManagerSupport:
    """A new one-time link to the manager; any earlier unused link stops working.
    A reminder's link is marked reminded, so it is never reminded again."""
    now = timezone.now()
    funding_request.support_links.filter(
        used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    link = ManagerSupport.objects.create(
        request=funding_request,
        token_hash=hash_token(token),
        manager_name=funding_request.manager_name,
        manager_email=funding_request.manager_email,
        expires_at=now + dt.timedelta(days=support_link_days()),
        reminded_at=now if reminder else None,
    )
    approver = approver_for(funding_request)
    if approver is not None:
        # The manager is a confirmed approver of the person's organisation:
        # they answer from the organisation page, signed in, not by a link
        # anyone holding the mail could use. (The token is never sent.)
        template = "funding/email/approver_request.txt"
        url = (
            f"{settings.SITE_URL}/organisation/{funding_request.organisation_id}"
            f"/funding/{funding_request.pk}/"
        )
    else:
        template = "funding/email/manager_request.txt"
        url = f"{settings.SITE_URL}/funding/support/{token}/"
    names = {
        "name": funding_request.person.get_full_name() or funding_request.person.email,
        "course": funding_request.course_name,
    }
    queue_mail(
        kind="manager_reminder" if reminder else "manager_request",
        key=f"funding:support:{link.pk}",
        to=link.manager_email,
        subject=(
            _("Reminder: %(name)s asks for your support: funding for %(course)s")
            if reminder
            else _("%(name)s asks for your support: funding for %(course)s")
        )
        % names,
        template=template,
        context={
            "object": funding_request,
            "link": link,
            "url": url,
            "days": support_link_days(),
            "reminder": reminder,
        },
        request=funding_request,
    )
    return link


def approver_for(funding_request: FundingRequest) -> User | None:
    """The manager the request names, when they are a confirmed approver of
    the person's organisation; None otherwise."""
    if funding_request.organisation_id is None or not funding_request.manager_email:
        return None
    return users_with_email(
        funding_request.manager_email, among=approvers_of(funding_request.organisation)
    ).first()


def resend_to_manager(funding_request: FundingRequest, *, by: User) -> ManagerSupport:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if funding_request.status not in (
            Status.AWAITING_MANAGER,
            Status.NOT_SUPPORTED,
        ):
            raise FundingError(_("This request is not waiting for your manager."))
        last = funding_request.support_links.order_by("-created_at").first()
        cooldown = int(getattr(settings, "FUNDING_RESEND_MINUTES", 5))
        if last and last.created_at > timezone.now() - dt.timedelta(minutes=cooldown):
            raise FundingError(
                _("We sent the request a few minutes ago. Try again in %(n)d minutes.")
                % {"n": cooldown}
            )
        record_event(
            funding_request,
            to_status=Status.AWAITING_MANAGER,
            by=by,
            note=_("Sent again to %(manager)s.")
            % {"manager": funding_request.manager_name},
        )
        return _send_support_link(funding_request)


def change_manager(
    funding_request: FundingRequest,
    *,
    manager_name: str,
    manager_email: str,
    by: User,
) -> FundingRequest:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        problem = manager_email_problem(funding_request.person, manager_email)
        if problem:
            raise FundingError(problem)
        if not manager_name.strip() or not manager_email.strip():
            raise FundingError(_("Enter your manager's name and work email"))
        waiting = funding_request.status in (
            Status.AWAITING_MANAGER,
            Status.NOT_SUPPORTED,
        )
        if not (waiting or funding_request.is_editable):
            raise FundingError(_("The manager can no longer be changed."))
        funding_request.manager_name = manager_name.strip()
        funding_request.manager_email = manager_email.strip()
        funding_request.save()
        if waiting:
            record_event(
                funding_request,
                to_status=Status.AWAITING_MANAGER,
                by=by,
                note=_("Manager changed to %(manager)s; the request was sent to them.")
                % {"manager": funding_request.manager_name},
            )
            _send_support_link(funding_request)
        return funding_request


def withdraw_funding_request(
    funding_request: FundingRequest, *, by: User
) -> FundingRequest:
    """The learner takes back a submitted request before a decision. The
    manager's link stops working; officers see it withdrawn. Idempotent: a
    second call on a withdrawn request is refused, changing nothing."""
    with transaction.atomic():
        # The request first, then its links: the order every change to a
        # request and its links takes, so that two cannot deadlock.
        funding_request = _locked(funding_request)
        open_links = list(
            ManagerSupport.objects.select_for_update()
            .filter(
                request_id=funding_request.pk,
                used_at__isnull=True,
                revoked_at__isnull=True,
            )
            .values_list("pk", flat=True)
        )
        if by.pk != funding_request.person_id:
            raise FundingError(_("You can only withdraw your own requests."))
        if funding_request.status == Status.WITHDRAWN:
            raise FundingError(_("You have already withdrawn this request."))
        if not funding_request.is_withdrawable:
            raise FundingError(
                _("Only a submitted request without a decision can be withdrawn.")
            )
        ManagerSupport.objects.filter(
            pk__in=open_links, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        record_event(
            funding_request,
            to_status=Status.WITHDRAWN,
            by=by,
            note=_("Withdrawn by the learner."),
        )
        return funding_request


def delete_draft(funding_request: FundingRequest, *, by: User) -> None:
    """Delete a request that was never submitted, with its uploaded files. The
    files go after commit, so a rollback never leaves rows without files."""
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if by.pk != funding_request.person_id:
            raise FundingError(_("You can only delete your own requests."))
        if not funding_request.is_deletable:
            raise FundingError(
                _("Only a draft can be deleted. You can withdraw a submitted request.")
            )
        files = [d.file for d in funding_request.documents.all() if d.file]
        funding_request.delete()

        def remove_files():
            for field in files:
                field.storage.delete(field.name)

        transaction.on_commit(remove_files)


def reminder_days() -> int:
    return int(getattr(settings, "FUNDING_MANAGER_REMINDER_DAYS", 5))


def remind_managers(*, now: dt.datetime | None = None) -> int:
    """Remind, once, each manager who has not answered a link sent
    FUNDING_MANAGER_REMINDER_DAYS ago. The reminder carries a new link (the
    first one's token is not stored) and the old one is replaced. Each link is
    claimed by a conditional update on `reminded_at`, so two runs at once
    remind once. Nothing is sent for a person whose processing is restricted,
    or whose account is erased or closed. Returns how many were reminded."""
    now = now or timezone.now()
    due = (
        ManagerSupport.objects.filter(
            used_at__isnull=True,
            revoked_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now,
            created_at__lte=now - dt.timedelta(days=reminder_days()),
            request__status=Status.AWAITING_MANAGER,
            request__person__processing_restricted=False,
            request__person__erased_at__isnull=True,
            request__person__closed_at__isnull=True,
        )
        .order_by("created_at", "pk")
        .values_list("pk", "request_id")
    )
    reminded = 0
    for link_id, request_id in due:
        with transaction.atomic():
            # The request first, then its link (see record_manager_support).
            funding_request = (
                FundingRequest.objects.select_for_update(of=("self",))
                .filter(pk=request_id)
                .first()
            )
            if funding_request is None:
                continue  # deleted meanwhile
            claimed = ManagerSupport.objects.filter(
                pk=link_id,
                used_at__isnull=True,
                revoked_at__isnull=True,
                reminded_at__isnull=True,
            ).update(reminded_at=now)
            if not claimed:
                continue  # answered, replaced or reminded meanwhile
            if funding_request.status != Status.AWAITING_MANAGER:
                continue
            _send_support_link(funding_request, reminder=True)
            record_event(
                funding_request,
                to_status=Status.AWAITING_MANAGER,
                by=None,
                actor_label=_("Automatic"),
                note=_("Reminder sent to %(manager)s.")
                % {"manager": funding_request.manager_name},
            )
            reminded += 1
    return reminded


def support_link_problem(link: ManagerSupport | None) -> str | None:
    """Why a manager's link cannot be used now, or None."""
    if link is None:
        return _("This link is not valid. Check you copied the whole link.")
    if link.request.status == Status.WITHDRAWN:
        return _("This request has been withdrawn. You do not need to do anything.")
    if link.used_at is not None:
        return _("This link has already been used. Each link works once.")
    if link.revoked_at is not None:
        return _("This link has been replaced by a newer one. Use the latest email.")
    if link.expires_at <= timezone.now():
        return _(
            "This link has expired. Ask the person to send the request to you again."
        )
    if link.request.status != Status.AWAITING_MANAGER:
        return _("This request is no longer waiting for your support.")
    return None


def record_manager_support(
    token: str, *, supported: bool, statement: str, letter=None
) -> ManagerSupport:
    """The manager's answer through their one-time link. The link row is locked,
    so two submissions of the same link cannot both count."""
    with transaction.atomic():
        # The request first, then its link: the order every change to a
        # request and its links takes, so that two cannot deadlock.
        request_id = (
            ManagerSupport.objects.filter(token_hash=hash_token(token))
            .values_list("request_id", flat=True)
            .first()
        )
        if request_id is not None:
            _locked(FundingRequest(pk=request_id))
        link = (
            ManagerSupport.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(token_hash=hash_token(token))
            .first()
        )
        return _record_support(
            link,
            supported=supported,
            statement=statement,
            letter=letter,
            actor_label=_("%(name)s (your manager)")
            % {"name": link.manager_name or link.manager_email}
            if link
            else "",
        )


def record_approver_support(
    funding_request: FundingRequest,
    *,
    by: User,
    supported: bool,
    statement: str,
    letter=None,
) -> ManagerSupport:
    """The manager's answer from the organisation page, when the manager is a
    confirmed approver of the person's organisation and is signed in."""
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if approver_for(funding_request) != by:
            raise FundingError(_("Only the manager this request names can support it."))
        link = (
            ManagerSupport.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(
                request=funding_request,
                used_at__isnull=True,
                revoked_at__isnull=True,
            )
            .order_by("-created_at")
            .first()
        )
        return _record_support(
            link,
            supported=supported,
            statement=statement,
            letter=letter,
            actor_label=_("%(name)s (your manager, approver at %(org)s)")
            % {
                "name": by.get_full_name() or by.email,
                "org": funding_request.organisation,
            },
        )


def _record_support(
    link: ManagerSupport | None,
    *,
    supported: bool,
    statement: str,
    letter,
    actor_label: str,
) -> ManagerSupport:
    """Record the manager's answer on a locked, usable support row."""
    with transaction.atomic():
        problem = support_link_problem(link)
        if problem:
            raise FundingError(problem)
        if not statement.strip():
            raise FundingError(_("Enter your statement"))
        checked = sniff_file(letter) if letter else None
        # The request may have moved on (withdrawn, say) since the link was
        # read: look again under the request's lock.
        funding_request = _locked(link.request)
        link.request = funding_request
        problem = support_link_problem(link)
        if problem:
            raise FundingError(problem)
        link.used_at = timezone.now()
        link.supported = supported
        link.statement = statement.strip()
        link.save()
        if letter:
            _store_document(
                funding_request,
                upload=letter,
                checked=checked,
                kind="manager_letter",
                by=None,
            )
        record_event(
            funding_request,
            to_status=Status.UNDER_REVIEW if supported else Status.NOT_SUPPORTED,
            by=None,
            actor_label=actor_label,
            note=link.statement,
        )
        return link


def _store_document(funding_request, *, upload, checked, kind, by) -> FundingDocument:
    content_type, ext = checked
    document = FundingDocument(
        request=funding_request,
        kind=kind,
        original_name=safe_name(upload, ext),
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )
    document.file.save(f"upload.{ext}", File(upload), save=False)
    document.save()
    return document


def add_supporting_document(
    funding_request: FundingRequest, *, upload, by: User
) -> FundingDocument:
    with transaction.atomic():
        checked = sniff_file(upload)
        funding_request = _locked(funding_request)
        if funding_request.status not in (
            *FundingRequest.EDITABLE,
            *FundingRequest.PENDING,
        ):
            raise FundingError(_("Documents can be added only before a decision."))
        return _store_document(
            funding_request, upload=upload, checked=checked, kind="supporting", by=by
        )


# --- officers ---------------------------------------------------------------------


def ask_for_more_information(
    funding_request: FundingRequest, *, note: str, by: User
) -> FundingRequest:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if funding_request.status not in FundingRequest.PENDING:
            raise FundingError(
                _("Only a request waiting for a decision can be reopened.")
            )
        if not note.strip():
            raise FundingError(_("Say what information you need"))
        record_event(funding_request, to_status=Status.MORE_INFO, by=by, note=note)
        return funding_request


def approve_funding_request(
    funding_request: FundingRequest,
    *,
    amount: Decimal,
    conditions: str = "",
    by: User,
) -> FundingRequest:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if funding_request.status != Status.UNDER_REVIEW:
            raise FundingError(
                _("Only a request with the manager's support can be approved.")
            )
        if amount is None or amount <= 0:
            raise FundingError(_("Enter an amount more than £0"))
        if amount > funding_request.cost:
            raise FundingError(
                _("The amount approved cannot be more than the £%(cost)s asked for.")
                % {"cost": funding_request.cost}
            )
        funding_request.amount_approved = amount
        note = _("£%(amount)s approved.") % {"amount": f"{amount:,.2f}"}
        if conditions.strip():
            note += " " + _("Conditions: %(c)s") % {"c": conditions.strip()}
        record_decision(
            funding_request,
            to_status=Status.APPROVED,
            note=conditions,
            by=by,
            event_note=note,
        )
        return funding_request


def decline_funding_request(
    funding_request: FundingRequest, *, reason: str, by: User
) -> FundingRequest:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if funding_request.status not in FundingRequest.PENDING:
            raise FundingError(
                _("Only a request waiting for a decision can be declined.")
            )
        if not reason.strip():
            raise FundingError(_("Give the reason, which the learner will see"))
        record_decision(funding_request, to_status=Status.DECLINED, note=reason, by=by)
        return funding_request


def decide_panel(
    funding_round: FundingRound, *, decisions: list[dict], by: User
) -> int:
    """Decide a round's requests in one pass. Each decision is
    {"request_id", "decision": "approve"|"decline"|"", "amount", "note"}.
    All or nothing: one refusal undoes the whole pass."""
    with transaction.atomic():
        decided = 0
        wanted = {d["request_id"]: d for d in decisions if d.get("decision")}
        requests = FundingRequest.objects.filter(
            round=funding_round, pk__in=list(wanted)
        ).select_related("person")
        found = {r.pk: r for r in requests}
        for pk, decision in wanted.items():
            funding_request = found.get(pk)
            if funding_request is None:
                raise FundingError(_("A request is not in this round."))
            try:
                if decision["decision"] == "approve":
                    approve_funding_request(
                        funding_request,
                        amount=decision.get("amount"),
                        conditions=decision.get("note", ""),
                        by=by,
                    )
                elif decision["decision"] == "decline":
                    decline_funding_request(
                        funding_request, reason=decision.get("note", ""), by=by
                    )
                else:
                    continue
            except FundingError as exc:
                who = (
                    funding_request.person.get_full_name()
                    if funding_request.person
                    else ""
                )
                raise FundingError(
                    f"{funding_request.course_name} ({who}): {exc}"
                ) from exc
            decided += 1
        return decided


def _paid_total(funding_request: FundingRequest) -> Decimal:
    return funding_request.payments.aggregate(total=Sum("amount"))["total"] or Decimal(
        "0"
    )


def record_invoice(
    funding_request: FundingRequest,
    *,
    supplier: str,
    number: str,
    amount: Decimal,
    invoice_date: dt.date,
    upload=None,
    by: User,
) -> Invoice:
    with transaction.atomic():
        checked = sniff_file(upload, allowed=("application/pdf",)) if upload else None
        funding_request = _locked(funding_request)
        if funding_request.status not in (Status.APPROVED, Status.CLOSED):
            raise FundingError(
                _("Invoices can be recorded only for approved requests.")
            )
        if amount is None or amount <= 0:
            raise FundingError(_("Enter an amount more than £0"))
        invoice = Invoice(
            request=funding_request,
            supplier=supplier.strip(),
            number=number.strip(),
            amount=amount,
            invoice_date=invoice_date,
            recorded_by=by,
        )
        if upload:
            invoice.original_name = safe_name(upload, checked[1])
            invoice.file.save("invoice.pdf", File(upload), save=False)
        try:
            with transaction.atomic():
                invoice.save()
        except IntegrityError:
            if invoice.file:
                invoice.file.delete(save=False)
            raise FundingError(
                _("Invoice %(n)s from %(s)s is already recorded.")
                % {"n": invoice.number, "s": invoice.supplier}
            ) from None
        record_event(
            funding_request,
            to_status=funding_request.status,
            by=by,
            note=_("Invoice %(n)s from %(s)s for £%(a)s recorded.")
            % {"n": invoice.number, "s": invoice.supplier, "a": f"{amount:,.2f}"},
        )
        return invoice


def record_payment(
    funding_request: FundingRequest,
    *,
    amount: Decimal,
    paid_on: dt.date,
    reference: str = "",
    invoice: Invoice | None = None,
    by: User,
) -> Payment:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if funding_request.status != Status.APPROVED:
            raise FundingError(
                _("Payments can be recorded only for approved requests.")
            )
        if amount is None or amount <= 0:
            raise FundingError(_("Enter an amount more than £0"))
        if invoice is not None and invoice.request_id != funding_request.pk:
            raise FundingError(_("That invoice belongs to another request."))
        paid = _paid_total(funding_request)
        if paid + amount > funding_request.amount_approved:
            raise FundingError(
                _(
                    "Payments would come to £%(total)s, more than the £%(approved)s approved."
                )
                % {
                    "total": f"{paid + amount:,.2f}",
                    "approved": f"{funding_request.amount_approved:,.2f}",
                }
            )
        payment = Payment.objects.create(
            request=funding_request,
            invoice=invoice,
            amount=amount,
            paid_on=paid_on,
            reference=reference.strip(),
            recorded_by=by,
        )
        record_event(
            funding_request,
            to_status=funding_request.status,
            by=by,
            note=_("Payment of £%(a)s made on %(d)s.")
            % {"a": f"{amount:,.2f}", "d": paid_on.strftime("%-d %B %Y")},
        )
        _close_if_done(funding_request)
        return payment


def record_progress(
    funding_request: FundingRequest, *, stage: str, note: str = "", by: User
) -> ProgressUpdate:
    with transaction.atomic():
        funding_request = _locked(funding_request)
        if by.pk != funding_request.person_id:
            raise FundingError(_("Only the learner records their progress."))
        if funding_request.status != Status.APPROVED:
            raise FundingError(
                _("You can record progress once the funding is approved.")
                if funding_request.status != Status.CLOSED
                else _("This request is closed.")
            )
        if stage not in ProgressUpdate.Stage.values:
            raise FundingError(_("Choose how the course is going"))
        if stage in ("in_progress", "withdrawn") and not note.strip():
            raise FundingError(_("Add a note about how the course is going"))
        update = ProgressUpdate.objects.create(
            request=funding_request, stage=stage, note=note.strip()
        )
        _close_if_done(funding_request)
        return update


def _close_if_done(funding_request: FundingRequest) -> None:
    """A request whose course is complete and fully paid is closed."""
    latest = funding_request.progress_updates.order_by("-recorded_at", "-pk").first()
    if (
        latest is not None
        and latest.stage == ProgressUpdate.Stage.COMPLETED
        and _paid_total(funding_request) >= funding_request.amount_approved
    ):
        record_event(
            funding_request,
            to_status=Status.CLOSED,
            by=None,
            actor_label=_("Automatic"),
            note=_("The course is complete and paid, so the request is closed."),
        )
