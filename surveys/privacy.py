"""What surveys hold about a person: their answers. On erasure the answers
to choices and scales stay, detached from the person, so totals stay right;
free text (which may say who wrote it) is removed."""

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from privacy.registry import Category, not_personal, register, register_retention

from .models import Answer, Question, Response, Survey


def export_answers(person) -> list[dict]:
    return [
        {
            "survey": a.response.survey.title,
            "question": a.question.text,
            "choice": a.choice,
            "scale": a.scale,
            "text": a.text,
            "answered_at": a.response.submitted_at,
        }
        for a in Answer.objects.filter(response__person=person)
        .select_related("response__survey", "question")
        .order_by("response__submitted_at", "question__order", "pk")
    ]


def erase_answers(person) -> None:
    Answer.objects.filter(response__person=person).update(text="")
    Response.objects.filter(person=person).update(person=None)


register(
    Category(
        name="survey_answers",
        model=Answer,
        fields=["choice", "scale", "text"],
        owner="response__person",
        export=export_answers,
        erase=erase_answers,
        kept_on_erasure={
            "choice": "Kept without the person, so that survey totals stay right.",
            "scale": "Kept without the person, so that survey totals stay right.",
        },
        note="Choices and scales are kept without you so totals stay right; "
        "free text is removed.",
    )
)
not_personal(
    Survey,
    ["title", "introduction", "key"],
    reason="Survey text written by staff for everyone, and its link key.",
)
not_personal(
    Question,
    ["text", "hint", "choices", "low_label", "high_label"],
    reason="Questions written by staff for everyone.",
)


def remove_old_answers() -> int:
    """Answers (with their responses) older than the survey retention period."""
    cutoff = timezone.now() - relativedelta(
        months=settings.PRIVACY_RETENTION["survey_answers_months"]
    )
    removed, _ = Response.objects.filter(submitted_at__lt=cutoff).delete()
    return removed


register_retention("survey answers", remove_old_answers)
