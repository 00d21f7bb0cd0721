"""Reads for surveys: what a person may answer, and the results staff see.

Results are totals only. A count below the suppression threshold
(REPORT_SUPPRESSION_THRESHOLD, default 5) is hidden (a 0 stays 0), and more
counts are hidden with it until no hidden count can be worked out from the
number of answers (`suppress_counts`). Free-text answers are shown, without names and in
alphabetical order, only once at least that many people have answered.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from config.suppression import suppress_table

from .models import Answer, Question, Response, Survey

SCALE = (1, 2, 3, 4, 5)


def threshold() -> int:
    return settings.REPORT_SUPPRESSION_THRESHOLD


def suppress_counts(counts: list[int], limit: int) -> list[int | None]:
    """The counts with those that must be hidden as None: the same rule as
    the reports' (config.suppression), for one row whose total (the number
    who answered) is known to the reader."""
    if not counts:
        return []
    hidden = suppress_table(
        [counts], threshold=limit, column_totals=False, grand_total=False
    ).cells[0]
    return [None if h else n for n, h in zip(counts, hidden, strict=True)]


@dataclass
class QuestionResult:
    question: Question
    rows: list[tuple[str, int | None]]  # (label, count or None when hidden)
    answered: int
    texts: list[str]
    texts_hidden: bool


@dataclass
class Results:
    survey: Survey
    responses: int
    shown: bool  # False while fewer than the threshold have answered
    limit: int
    questions: list[QuestionResult]


def results(survey: Survey) -> Results:
    """A bounded number of queries, whatever the number of answers."""
    limit = threshold()
    responses = Response.objects.filter(survey=survey).count()
    questions = list(survey.questions.all())
    shown = responses >= limit
    counts: dict[tuple[int, str], int] = {}
    for question_id, choice, scale, n in (
        Answer.objects.filter(response__survey=survey)
        .exclude(question__kind=Question.Kind.TEXT)
        .values_list("question_id", "choice", "scale")
        .annotate(n=Count("pk"))
        .values_list("question_id", "choice", "scale", "n")
    ):
        key = str(scale) if scale is not None else choice
        counts[(question_id, key)] = counts.get((question_id, key), 0) + n
    texts: dict[int, list[str]] = {}
    if shown:
        for question_id, text in (
            Answer.objects.filter(
                response__survey=survey, question__kind=Question.Kind.TEXT
            )
            .exclude(text="")
            .order_by("text")
            .values_list("question_id", "text")
        ):
            texts.setdefault(question_id, []).append(text)
    out = []
    for q in questions:
        if q.kind == Question.Kind.TEXT:
            given = texts.get(q.pk, [])
            out.append(QuestionResult(q, [], len(given), given, not shown))
            continue
        labels = q.choice_list if q.kind == Question.Kind.CHOICE else SCALE
        raw = [counts.get((q.pk, str(label)), 0) for label in labels]
        # Answers to a choice since removed from the list are counted too.
        if q.kind == Question.Kind.CHOICE:
            known = set(q.choice_list)
            other = sum(
                n
                for (qid, key), n in counts.items()
                if qid == q.pk and key not in known
            )
            if other:
                labels = [*labels, "Other (a choice since removed)"]
                raw.append(other)
        shown_counts = suppress_counts(raw, limit) if shown else [None] * len(raw)
        display = [
            q.scale_label(label) if q.kind == Question.Kind.SCALE else label
            for label in labels
        ]
        out.append(
            QuestionResult(
                q, list(zip(display, shown_counts, strict=True)), sum(raw), [], False
            )
        )
    return Results(survey, responses, shown, limit, out)


def response_of(survey: Survey, person) -> Response | None:
    return (
        Response.objects.filter(survey=survey, person=person)
        .prefetch_related("answers__question")
        .first()
    )
