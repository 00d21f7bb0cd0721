"""Reads for the funding pages, the officers' queue and reports. Each returns a
queryset (or a small structure) with totals computed in SQL, so query counts do
not grow with the number of requests."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import User
from config.numbers import parse_int
from config.search import holding_every_word

from .models import (
    Application,
    ApplicationType,
    FundingEvent,
    FundingRequest,
    FundingRound,
    FundingStream,
    ManagerSupport,
    Payment,
)

MONEY = DecimalField(max_digits=12, decimal_places=2)


def financial_year_start(day: dt.date) -> dt.date:
    """NHS allowances run from 1 April to 31 March."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _paid_subquery():
    return Coalesce(
        Subquery(
            Payment.objects.filter(request=OuterRef("pk"))
            .order_by()
            .values("request")
            .annotate(total=Sum("amount"))
            .values("total"),
            output_field=MONEY,
        ),
        Value(Decimal("0")),
        output_field=MONEY,
    )


def _latest_progress_subquery():
    from .models import ProgressUpdate

    return Subquery(
        ProgressUpdate.objects.filter(request=OuterRef("pk"))
        .order_by("-recorded_at", "-pk")
        .values("stage")[:1]
    )


def funding_requests_for_person(*, person: User) -> QuerySet[FundingRequest]:
    return (
        FundingRequest.objects.filter(person=person)
        .select_related("provider", "round__stream")
        .annotate(paid_total=_paid_subquery(), progress=_latest_progress_subquery())
        .order_by("-created_at", "-pk")
    )


def funding_request_detail(*, queryset: QuerySet[FundingRequest]):
    """The request page: events, documents, invoices, payments, progress and
    manager links in one query each."""
    return queryset.select_related(
        "person__profile", "organisation", "decided_by"
    ).prefetch_related(
        Prefetch(
            "events",
            queryset=FundingEvent.objects.select_related("actor").order_by(
                "created_at", "pk"
            ),
        ),
        "documents",
        "invoices",
        "payments",
        "progress_updates",
        Prefetch(
            "support_links",
            queryset=ManagerSupport.objects.order_by("-created_at", "-pk"),
        ),
    )


def applications_for_person(*, person: User) -> QuerySet[Application]:
    return (
        Application.objects.filter(person=person)
        .select_related("type")
        .order_by("-created_at", "-pk")
    )


def application_types_open() -> QuerySet[ApplicationType]:
    """The kinds of application a learner can start now, in staff's order."""
    return ApplicationType.objects.filter(is_open=True).order_by("order", "name")


def application_types() -> QuerySet[ApplicationType]:
    return ApplicationType.objects.order_by("order", "name")


def application_detail(*, queryset: QuerySet[Application]):
    return queryset.select_related("person", "organisation", "type").prefetch_related(
        Prefetch(
            "events",
            queryset=FundingEvent.objects.select_related("actor").order_by(
                "created_at", "pk"
            ),
        )
    )


def rounds_open(*, day: dt.date | None = None) -> QuerySet[FundingRound]:
    day = day or timezone.localdate()
    return (
        FundingRound.objects.filter(opens_on__lte=day, closes_on__gte=day)
        .select_related("stream")
        .order_by("closes_on", "name")
    )


def allowance_remaining(
    *,
    person: User,
    stream: FundingStream,
    day: dt.date,
    exclude_pk: int | None = None,
) -> Decimal:
    """The stream's yearly allowance less what the person has asked for
    (pending) or been given (approved, closed) with courses starting in the
    same financial year."""
    start = financial_year_start(day)
    used = FundingRequest.objects.filter(
        person=person,
        round__stream=stream,
        status__in=(*FundingRequest.COMMITTED, FundingRequest.Status.CLOSED),
        start_date__gte=start,
        start_date__lt=start.replace(year=start.year + 1),
    ).exclude(pk=exclude_pk).aggregate(
        total=Sum(Coalesce("amount_approved", "cost"), output_field=MONEY)
    )["total"] or Decimal("0")
    return max(stream.annual_allowance - used, Decimal("0"))


def allowances_for_person(*, person: User) -> list[dict]:
    """For each open round: the stream, its closing date and what this person
    has left to ask for this financial year."""
    today = timezone.localdate()
    rounds = list(rounds_open(day=today))
    start = financial_year_start(today)
    used = dict(
        FundingRequest.objects.filter(
            person=person,
            round__stream__in={r.stream_id for r in rounds},
            status__in=(*FundingRequest.COMMITTED, FundingRequest.Status.CLOSED),
            start_date__gte=start,
            start_date__lt=start.replace(year=start.year + 1),
        )
        .order_by()
        .values("round__stream")
        .annotate(total=Sum(Coalesce("amount_approved", "cost"), output_field=MONEY))
        .values_list("round__stream", "total")
    )
    return [
        {
            "round": r,
            "stream": r.stream,
            "remaining": max(
                r.stream.annual_allowance - (used.get(r.stream_id) or 0), Decimal("0")
            ),
        }
        for r in rounds
    ]


def funding_requests_for_officers(
    *,
    status: str = "",
    provider: str = "",
    workplace: str = "",
    round_id: str = "",
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
) -> QuerySet[FundingRequest]:
    """The work queue: submitted requests (never drafts), newest first."""
    qs = (
        FundingRequest.objects.exclude(status=FundingRequest.Status.DRAFT)
        .select_related("person", "provider", "organisation", "round__stream")
        .annotate(paid_total=_paid_subquery(), progress=_latest_progress_subquery())
        .order_by("-submitted_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    # Each word anywhere in the provider's name (chosen or typed) and the
    # workplace's (the trigram index of names, accounts/0009, finds them).
    qs = holding_every_word(qs, provider, "provider__name", "provider_name")
    qs = holding_every_word(qs, workplace, "organisation__name")
    if (round_pk := parse_int(round_id, minimum=1)) is not None:
        qs = qs.filter(round_id=round_pk)
    if submitted_from:
        qs = qs.filter(submitted_at__date__gte=submitted_from)
    if submitted_to:
        qs = qs.filter(submitted_at__date__lte=submitted_to)
    return qs


def panel_for_round(*, funding_round: FundingRound) -> QuerySet[FundingRequest]:
    """A round's requests waiting for a decision, with the manager's answer."""
    supported = ManagerSupport.objects.filter(
        request=OuterRef("pk"), used_at__isnull=False
    ).order_by("-used_at")
    return (
        FundingRequest.objects.filter(
            round=funding_round, status__in=FundingRequest.PENDING
        )
        .select_related("person", "provider", "organisation")
        .annotate(
            manager_statement=Subquery(supported.values("statement")[:1]),
            manager_supported=Subquery(supported.values("supported")[:1]),
        )
        .order_by("submitted_at", "pk")
    )


def applications_for_officers(
    *, status: str = "", type_slug: str = ""
) -> QuerySet[Application]:
    qs = (
        Application.objects.exclude(status=Application.Status.DRAFT)
        .select_related("person", "organisation", "type")
        .order_by("-submitted_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    if type_slug:
        qs = qs.filter(type__slug=type_slug)
    return qs


def support_link_get(*, token: str) -> ManagerSupport | None:
    from .services.common import hash_token

    return (
        ManagerSupport.objects.select_related("request__person", "request__provider")
        .filter(token_hash=hash_token(token))
        .first()
    )


# --- reports (aggregates only) ------------------------------------------------


def spend_by_provider_course_month(
    queryset: QuerySet[FundingRequest] | None = None,
) -> list[dict]:
    """Approved and paid, by provider, course and month of the decision."""
    qs = FundingRequest.objects.all() if queryset is None else queryset
    approved = (
        qs.filter(status__in=("approved", "closed"), decided_at__isnull=False)
        .annotate(
            month=TruncMonth("decided_at"),
            provider_label=Coalesce("provider__name", "provider_name"),
        )
        .order_by()
        .values("provider_label", "course_name", "month")
        .annotate(approved=Sum("amount_approved"), requests=Count("pk"))
    )
    paid = (
        Payment.objects.filter(request__in=qs.values("pk"))
        .annotate(
            month=TruncMonth("paid_on"),
            provider_label=Coalesce(
                "request__provider__name", "request__provider_name"
            ),
            course_name=Coalesce("request__course_name", Value("")),
        )
        .order_by()
        .values("provider_label", "course_name", "month")
        .annotate(paid=Sum("amount"), requests=Count("request", distinct=True))
    )
    rows: dict[tuple, dict] = {}

    def key(row):
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        return (row["provider_label"] or "", row["course_name"], month.replace(day=1))

    def cell(row):
        return rows.setdefault(
            key(row), {"approved": Decimal("0"), "paid": Decimal("0"), "requests": 0}
        )

    for row in approved:
        c = cell(row)
        c["approved"] += row["approved"] or 0
        c["requests"] = max(c["requests"], row["requests"])
    for row in paid:
        c = cell(row)
        c["paid"] += row["paid"] or 0
        c["requests"] = max(c["requests"], row["requests"])
    # Aggregates only: a cell covering fewer requests than the threshold could
    # identify someone's award, so its amounts are suppressed (no totals are
    # printed, so nothing can be worked back from them).
    threshold = getattr(settings, "REPORT_SUPPRESSION_THRESHOLD", 5)
    for values in rows.values():
        values["suppressed"] = values["requests"] < threshold
    return [
        {"provider": p, "course": c, "month": m, **v}
        for (p, c, m), v in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][0]))
    ]


def counts_by_status(queryset: QuerySet[FundingRequest] | None = None) -> dict:
    qs = FundingRequest.objects.all() if queryset is None else queryset
    counts = dict(
        qs.order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {value: counts.get(value, 0) for value in FundingRequest.Status.values}


def suppressed_counts(counts: dict, *, threshold: int | None = None) -> dict:
    """Counts for funders: any count from 1 to threshold-1 is suppressed, and,
    if only one cell would be, the next smallest too, so it cannot be worked out
    from the total (which is withheld whenever anything is suppressed)."""
    from django.conf import settings

    if threshold is None:
        threshold = int(getattr(settings, "REPORT_SUPPRESSION_THRESHOLD", 5))
    hidden = {k for k, n in counts.items() if 0 < n < threshold}
    if len(hidden) == 1:
        others = sorted((n, k) for k, n in counts.items() if k not in hidden and n > 0)
        if others:
            hidden.add(others[0][1])
    out = {k: ("suppressed" if k in hidden else n) for k, n in counts.items()}
    out["total"] = "suppressed" if hidden else sum(counts.values())
    return out


# --- the learner's task list ----------------------------------------------------

NOT_STARTED = "Not yet started"
IN_PROGRESS = "In progress"
COMPLETED = "Completed"
CANNOT_START = "Cannot start yet"


def _status(answers: list) -> str:
    given = [a not in (None, "") for a in answers]
    if all(given):
        return COMPLETED
    return IN_PROGRESS if any(given) else NOT_STARTED


def request_tasks(
    funding_request: FundingRequest, *, needs_round: bool, has_documents: bool
) -> list[dict]:
    """The sections of a draft request and each one's status, in order:
    [{"key", "title", "url_name", "status"}]. Check your answers cannot start
    until every other section is complete."""
    r = funding_request
    course = [r.course_name, r.provider_display, r.cost, r.start_date]
    if needs_round:
        course.append(r.round_id)
    if r.documents_confirmed:
        documents = COMPLETED
    else:
        documents = IN_PROGRESS if has_documents else NOT_STARTED
    tasks = [
        {
            "key": "course",
            "title": "Course, provider and cost",
            "url_name": "funding:task_course",
            "status": _status(course),
        },
        {
            "key": "reason",
            "title": "Why you want to do this course",
            "url_name": "funding:task_reason",
            "status": _status([r.reason]),
        },
        {
            "key": "manager",
            "title": "Your manager",
            "url_name": "funding:manager",
            "status": _status([r.manager_name, r.manager_email]),
        },
        {
            "key": "documents",
            "title": "Supporting documents",
            "url_name": "funding:documents",
            "status": documents,
        },
    ]
    ready = all(t["status"] == COMPLETED for t in tasks)
    tasks.append(
        {
            "key": "check",
            "title": "Check your answers and submit",
            "url_name": "funding:check",
            "status": NOT_STARTED if ready else CANNOT_START,
        }
    )
    return tasks
