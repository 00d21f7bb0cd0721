"""Survey writes: answering, once per person.

Who may answer: anyone signed in who has the survey's link (an unguessable
key; the link is sent by a campaign on the `surveys` purpose), while it is
open, unless their account is restricted, closed or erased. Answering twice
(a double submit, a second tab) keeps the first answers: the unique
(survey, person) row decides, under a lock.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy.services import audit

from .models import Answer, Question, Response, Survey


class SurveyError(Exception):
    """A refusal whose message is safe to show."""


def why_not_open(survey: Survey) -> str:
    """Empty when the survey takes answers now, otherwise the reason."""
    if survey.status == Survey.Status.DRAFT:
        return _("This survey is not open yet.")
    if survey.status == Survey.Status.CLOSED or (
        survey.closes_at is not None and survey.closes_at <= timezone.now()
    ):
        return _("This survey has closed. Thank you for your interest.")
    return ""


def why_not_person(person) -> str:
    if person.processing_restricted:
        return _(
            "You have asked us to restrict the use of your data, so we do not "
            "take survey answers from you."
        )
    if person.erased_at is not None or person.closed_at is not None:
        return _("Your account is closed.")
    return ""


def submit_response(survey: Survey, person, answers: dict[int, object]) -> Response:
    """Record the person's answers (question id -> choice text, scale number or
    free text; already validated by the form). Raises SurveyError when the
    survey is not open, the person may not answer, or they already have."""
    if reason := why_not_open(survey) or why_not_person(person):
        raise SurveyError(reason)
    questions = {q.pk: q for q in survey.questions.all()}
    try:
        with transaction.atomic():
            response = Response.objects.create(survey=survey, person=person)
            rows = []
            for question_id, value in answers.items():
                question = questions.get(question_id)
                if question is None or value in (None, ""):
                    continue
                answer = Answer(response=response, question=question)
                if question.kind == Question.Kind.SCALE:
                    answer.scale = int(value)
                elif question.kind == Question.Kind.CHOICE:
                    answer.choice = str(value)
                else:
                    answer.text = str(value)
                rows.append(answer)
            Answer.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise SurveyError(
            _("You have already answered this survey. Thank you.")
        ) from exc
    return response


def close_survey(survey: Survey, *, by) -> None:
    updated = Survey.objects.filter(pk=survey.pk, status=Survey.Status.OPEN).update(
        status=Survey.Status.CLOSED
    )
    if not updated:
        raise SurveyError(_("“%s” is not open.") % survey)
    audit("survey closed", person=None, by=by, detail=f"survey:{survey.pk}")


def open_survey(survey: Survey, *, by) -> None:
    """Open a draft survey to answers, once its questions make sense."""
    questions = list(survey.questions.all())
    if not questions:
        raise SurveyError(_("“%s” has no questions yet.") % survey)
    for q in questions:
        if q.kind == Question.Kind.CHOICE and len(q.choice_list) < 2:
            raise SurveyError(
                _("“%s” needs at least two choices, one per line.") % q.text
            )
    if survey.closes_at is not None and survey.closes_at <= timezone.now():
        raise SurveyError(_("Its closing time has passed: change or clear it first."))
    updated = Survey.objects.filter(pk=survey.pk, status=Survey.Status.DRAFT).update(
        status=Survey.Status.OPEN
    )
    if not updated:
        raise SurveyError(_("“%s” is not a draft.") % survey)
    audit("survey opened", person=None, by=by, detail=f"survey:{survey.pk}")
