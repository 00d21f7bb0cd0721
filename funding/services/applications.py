"""Apprenticeship applications: drafted and submitted by the learner, reviewed,
offered or declined by funding officers, on the same event timeline and mail
outbox as funding requests."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import ApprenticeshipApplication
from .common import FundingError, record_event
from .requests import manager_email_problem

Status = ApprenticeshipApplication.Status

APPLICATION_FIELDS = (
    "programme",
    "employer_name",
    "manager_name",
    "manager_email",
    "statement",
)


def _locked(application: ApprenticeshipApplication) -> ApprenticeshipApplication:
    return (
        ApprenticeshipApplication.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=application.pk)
    )


def save_application(
    person: User, *, application: ApprenticeshipApplication | None = None, **fields
) -> ApprenticeshipApplication:
    with transaction.atomic():
        unknown = set(fields) - set(APPLICATION_FIELDS)
        if unknown:
            raise ValueError(f"Not editable: {sorted(unknown)}")
        problem = manager_email_problem(person, fields.get("manager_email", ""))
        if problem:
            raise FundingError(problem)
        if application is None:
            application = ApprenticeshipApplication(person=person)
        else:
            application = _locked(application)
            if application.person_id != person.pk:
                raise FundingError(_("You can only change your own applications."))
            if not application.is_editable:
                raise FundingError(_("This application has been submitted."))
        for name, value in fields.items():
            setattr(
                application, name, value.strip() if isinstance(value, str) else value
            )
        application.save()
        return application


def submit_application(
    application: ApprenticeshipApplication, *, by: User
) -> ApprenticeshipApplication:
    with transaction.atomic():
        application = _locked(application)
        if application.person_id != by.pk:
            raise FundingError(_("You can only submit your own applications."))
        if not application.is_editable:
            raise FundingError(_("This application has already been submitted."))
        profile = getattr(application.person, "profile", None)
        application.organisation = profile.organisation if profile else None
        application.submitted_at = timezone.now()
        record_event(application, to_status=Status.SUBMITTED, by=by)
        return application


def start_application_review(
    application: ApprenticeshipApplication, *, by: User
) -> ApprenticeshipApplication:
    with transaction.atomic():
        application = _locked(application)
        if application.status != Status.SUBMITTED:
            raise FundingError(_("Only a submitted application can be reviewed."))
        record_event(application, to_status=Status.UNDER_REVIEW, by=by)
        return application


def decide_application(
    application: ApprenticeshipApplication, *, offer: bool, note: str, by: User
) -> ApprenticeshipApplication:
    with transaction.atomic():
        application = _locked(application)
        if application.status not in (Status.SUBMITTED, Status.UNDER_REVIEW):
            raise FundingError(_("This application has already been decided."))
        if not offer and not note.strip():
            raise FundingError(_("Give the reason, which the applicant will see"))
        application.decision_note = note.strip()
        application.decided_at = timezone.now()
        application.decided_by = by
        record_event(
            application,
            to_status=Status.OFFERED if offer else Status.DECLINED,
            by=by,
            note=note,
        )
        return application
