"""Applications of every type staff define (`ApplicationType`: an
apprenticeship, a fellowship...): drafted and submitted by the learner while
the type is open, reviewed, offered or declined by funding officers, on the
same event timeline, decision record and mail outbox as funding requests."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import Application, ApplicationType
from .common import FundingError, record_decision, record_event
from .requests import manager_email_problem

Status = Application.Status

APPLICATION_FIELDS = (
    "programme",
    "employer_name",
    "manager_name",
    "manager_email",
    "statement",
)
MANAGER_FIELDS = ("manager_name", "manager_email")


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("person", "type")
        .get(pk=application.pk)
    )


def _closed(kind: ApplicationType | None) -> str:
    if kind is not None and not kind.is_open:
        return _("Applications for %(type)s are closed.") % {"type": kind.name}
    return ""


def save_application(
    person: User,
    *,
    application: Application | None = None,
    application_type: ApplicationType | None = None,
    **fields,
) -> Application:
    """Start an application of `application_type`, or change a draft."""
    with transaction.atomic():
        unknown = set(fields) - set(APPLICATION_FIELDS)
        if unknown:
            raise ValueError(f"Not editable: {sorted(unknown)}")
        if application is None:
            if application_type is None:
                raise ValueError("A new application needs its type.")
            kind = ApplicationType.objects.select_for_update().get(
                pk=application_type.pk
            )
            if _closed(kind):
                raise FundingError(_closed(kind))
            application = Application(person=person, type=kind)
        else:
            application = _locked(application)
            if application.person_id != person.pk:
                raise FundingError(_("You can only change your own applications."))
            if not application.is_editable:
                raise FundingError(_("This application has been submitted."))
            kind = application.type
        if kind is not None and not kind.needs_manager:
            fields = {k: v for k, v in fields.items() if k not in MANAGER_FIELDS}
        problem = manager_email_problem(person, fields.get("manager_email", ""))
        if problem:
            raise FundingError(problem)
        for name, value in fields.items():
            setattr(
                application, name, value.strip() if isinstance(value, str) else value
            )
        application.save()
        return application


def submit_application(application: Application, *, by: User) -> Application:
    with transaction.atomic():
        application = _locked(application)
        if application.person_id != by.pk:
            raise FundingError(_("You can only submit your own applications."))
        if not application.is_editable:
            raise FundingError(_("This application has already been submitted."))
        if _closed(application.type):
            raise FundingError(_closed(application.type))
        needs_manager = application.type is None or application.type.needs_manager
        if needs_manager and not (
            application.manager_name and application.manager_email
        ):
            raise FundingError(_("Enter your manager's name and work email"))
        profile = getattr(application.person, "profile", None)
        application.organisation = profile.organisation if profile else None
        application.submitted_at = timezone.now()
        record_event(application, to_status=Status.SUBMITTED, by=by)
        return application


def start_application_review(application: Application, *, by: User) -> Application:
    with transaction.atomic():
        application = _locked(application)
        if application.status != Status.SUBMITTED:
            raise FundingError(_("Only a submitted application can be reviewed."))
        record_event(application, to_status=Status.UNDER_REVIEW, by=by)
        return application


def decide_application(
    application: Application, *, offer: bool, note: str, by: User
) -> Application:
    with transaction.atomic():
        application = _locked(application)
        if application.status not in (Status.SUBMITTED, Status.UNDER_REVIEW):
            raise FundingError(_("This application has already been decided."))
        if not offer and not note.strip():
            raise FundingError(_("Give the reason, which the applicant will see"))
        record_decision(
            application,
            to_status=Status.OFFERED if offer else Status.DECLINED,
            note=note,
            by=by,
        )
        return application
