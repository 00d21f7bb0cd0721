"""Reads for the reports under /staff/reports/.

Each report is worked out in the database: one or two aggregate queries
(GROUP BY, never a loop over bookings in Python), whatever the number of
bookings. Each returns a `Table` that the page, its chart and the CSV and XLSX
downloads share, so they cannot disagree.

`suppressed=True` gives the table as it may leave the organisation: every
count from 1 to REPORT_SUPPRESSION_THRESHOLD-1 hidden, with secondary
suppression (config.suppression), and any money or rate worked out from a
hidden count hidden with it.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf, Trim, TruncMonth
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from accounts.models import Organisation, Profile
from bookings.models import Booking
from config.suppression import suppress_table
from courses.models import Session
from funding.models import FundingRequest, FundingRound, Payment

COUNT, MONEY, RATE, TEXT = "count", "money", "rate", "text"


@dataclass(frozen=True)
class Hidden:
    """A suppressed value: shown as "<5" (the threshold in force)."""

    threshold: int

    def __str__(self) -> str:
        return f"<{self.threshold}"


@dataclass
class Table:
    """A report as rows of [label, value, ...]; `totals` is the totals row (or
    None when rows overlap and a total would count twice)."""

    key: str
    title: str
    group_label: str
    columns: list[tuple[str, str]]  # (heading, kind)
    rows: list[list]
    totals: list | None
    suppressed: bool
    # The column (index into a row, 1 = first value) the chart draws.
    chart_column: int = 1
    notes: list[str] = field(default_factory=list)
    # The page shows at most this many rows (the downloads have them all):
    # thousands of rows are a download, not a page.
    shown_limit: int | None = 500
    caption_text: str = ""
    # How many rows there are, when `rows` holds only the first
    # `shown_limit` of them (read for the page alone). A table for a
    # download may have rows as a generator, to be read once.
    row_count: int | None = None

    @property
    def rows_in_all(self) -> int:
        return len(self.rows) if self.row_count is None else self.row_count

    @property
    def caption(self) -> str:
        """The table's caption, which its chart's description names."""
        return self.caption_text or f"{self.title} by {self.group_label.lower()}"


def date_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the start of `start` to the end of `end`, in local time."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


def _threshold() -> int:
    return settings.REPORT_SUPPRESSION_THRESHOLD


def _apply_suppression(
    counts: list[list[int]], *, column_totals: bool = True, row_totals: bool = True
):
    mask = suppress_table(
        counts,
        threshold=_threshold(),
        row_totals=row_totals,
        column_totals=column_totals,
        grand_total=column_totals and row_totals,
    )
    hidden = Hidden(_threshold())

    def cell(i: int, j: int, value):
        return hidden if mask.cells[i][j] else value

    return mask, hidden, cell


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- bookings and attendance -----------------------------------------------------

BOOKING_GROUPS = {
    "course": "Course",
    "provider": "Provider",
    "topic": "Topic",
    "month": "Month",
}

_RECORDED_LATER = (
    Booking.Status.CONFIRMED,
    Booking.Status.OFFERED,
    Booking.Status.AWAITING_APPROVAL,
)


def _booking_group(by: str) -> tuple[dict, list[str]]:
    if by == "course":
        return {}, ["session__course_id", "session__course__title"]
    if by == "provider":
        return {}, ["session__course__provider__name"]
    if by == "topic":
        return {}, ["session__course__topics__name"]
    return {"month": TruncMonth("session__starts_at")}, ["month"]


def bookings_table(
    *, start: dt.date, end: dt.date, by: str, suppressed: bool = False
) -> Table:
    """Bookings for sessions starting from `start` to `end`, by course,
    provider, topic or month: attended, did not attend, not yet recorded and
    cancelled (a partition: waiting-list entries are not bookings), with the
    attendance and no-show rates among those whose attendance was recorded."""
    begins, ends = date_range(start, end)
    annotations, keys = _booking_group(by)
    aggregated = (
        Booking.objects.filter(
            session__starts_at__gte=begins, session__starts_at__lt=ends
        )
        .exclude(status=Booking.Status.WAITLISTED)
        .annotate(**annotations)
        .values(*keys)
        .annotate(
            attended=Count("id", filter=Q(status=Booking.Status.ATTENDED)),
            no_show=Count("id", filter=Q(status=Booking.Status.NO_SHOW)),
            later=Count("id", filter=Q(status__in=_RECORDED_LATER)),
            cancelled=Count("id", filter=Q(status=Booking.Status.CANCELLED)),
        )
        .order_by(*keys)
    )
    labels, counts = [], []
    for row in aggregated:
        if by == "course":
            label = row["session__course__title"]
        elif by == "provider":
            label = row["session__course__provider__name"]
        elif by == "topic":
            label = row["session__course__topics__name"] or "No topic"
        else:
            label = timezone.localtime(row["month"]).strftime("%B %Y")
        labels.append(label)
        counts.append([row["attended"], row["no_show"], row["later"], row["cancelled"]])
    overlapping = by == "topic"
    columns = [
        ("Attended", COUNT),
        ("Did not attend", COUNT),
        ("Not yet recorded", COUNT),
        ("Cancelled", COUNT),
        ("Bookings", COUNT),
        ("Attendance rate (%)", RATE),
        ("No-show rate (%)", RATE),
    ]
    rows, totals = _count_rows(
        labels,
        counts,
        width=4,
        suppressed=suppressed,
        column_totals=not overlapping,
    )
    for row in [*rows, *([totals] if totals else [])]:
        attended, no_show = row[1], row[2]
        if isinstance(attended, Hidden) or isinstance(no_show, Hidden):
            row += [Hidden(_threshold())] * 2
        else:
            row += [
                _percent(attended, attended + no_show),
                _percent(no_show, attended + no_show),
            ]
    notes = [
        "Sessions starting in the dates chosen. Bookings are places taken, "
        "including those cancelled later; waiting-list entries are not counted.",
        "Attendance and no-show rates are of the bookings whose attendance was "
        "recorded.",
    ]
    if overlapping:
        notes.append(
            "A course can have several topics, so a booking counts once under "
            "each of its course's topics and there is no total row."
        )
    return Table(
        key="bookings",
        title="Bookings and attendance",
        group_label=BOOKING_GROUPS[by],
        columns=columns,
        rows=rows,
        totals=totals,
        suppressed=suppressed,
        chart_column=5,
        notes=notes,
    )


def _count_rows(
    labels: list[str],
    counts: list[list[int]],
    *,
    width: int,
    suppressed: bool,
    column_totals: bool = True,
    row_totals: bool = True,
) -> tuple[list[list], list | None]:
    """Rows of [label, counts..., row total] and the totals row (of `width`
    counts, zeros when there are no rows), suppressed when asked."""
    col_sums = [sum(r[j] for r in counts) for j in range(width)]
    grand = sum(col_sums)
    if not suppressed or not counts:
        rows = [
            [label, *r, *([sum(r)] if row_totals else [])]
            for label, r in zip(labels, counts, strict=True)
        ]
        totals = (
            ["Total", *col_sums, *([grand] if row_totals else [])]
            if column_totals
            else None
        )
        return rows, totals
    mask, hidden, cell = _apply_suppression(
        counts, column_totals=column_totals, row_totals=row_totals
    )
    rows = []
    for i, (label, r) in enumerate(zip(labels, counts, strict=True)):
        values = [cell(i, j, v) for j, v in enumerate(r)]
        if row_totals:
            values.append(hidden if mask.row_totals[i] else sum(r))
        rows.append([label, *values])
    totals = None
    if column_totals:
        totals = [
            "Total",
            *[hidden if mask.column_totals[j] else s for j, s in enumerate(col_sums)],
        ]
        if row_totals:
            totals.append(hidden if mask.grand_total else grand)
    return rows, totals


# --- fill rate and sessions at risk ---------------------------------------------


def _sessions_with_places():
    # Plain values, not model instances: a year holds thousands of sessions.
    return Session.objects.values(
        "id", "course__title", "starts_at", "status", "capacity"
    ).annotate(
        taken=Count("bookings", filter=Q(bookings__status__in=Booking.PLACE_HOLDING)),
        waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
    )


_SESSION_STATUS = dict(Session.Status.choices)


def _session_row(s: dict) -> list:
    local = timezone.localtime(s["starts_at"])
    return [
        s["course__title"],
        local.strftime("%-d %b %Y %H:%M"),
        str(_SESSION_STATUS.get(s["status"], s["status"])),
        s["capacity"],
        s["taken"],
        s["waiting"],
        _percent(s["taken"], s["capacity"]),
    ]


SESSION_COLUMNS = [
    ("Starts", TEXT),
    ("Status", TEXT),
    ("Places", COUNT),
    ("Places taken", COUNT),
    ("Waiting", COUNT),
    ("Fill rate (%)", RATE),
]

FILL_BANDS = [
    ("Under 25%", 0, 25),
    ("25% to 49%", 25, 50),
    ("50% to 74%", 50, 75),
    ("75% to 99%", 75, 100),
    ("Full", 100, None),
]


def _sessions_in(start: dt.date, end: dt.date):
    begins, ends = date_range(start, end)
    return Session.objects.filter(starts_at__gte=begins, starts_at__lt=ends)


def fill_table(*, start: dt.date, end: dt.date, limit: int | None = 500) -> Table:
    """The sessions starting from `start` to `end`, with places taken (any
    booking that holds a place, attended and no-shows included), the
    waiting list and the fill rate: the first `limit` of them for the page
    (and how many there are), every one (`limit=None`) for a download. A
    page reads its rows and counts the rest, so a range of years costs it
    what a range of weeks does."""
    sessions = (
        _sessions_with_places()
        .filter(pk__in=_sessions_in(start, end).values("pk"))
        .order_by("starts_at", "id")
    )
    if limit is None:
        # Read as written out (a generator): every session of a long range
        # is never held at once.
        rows = (_session_row(s) for s in sessions.iterator(chunk_size=2000))
        row_count = None
    else:
        rows = [_session_row(s) for s in sessions[:limit]]
        row_count = len(rows)
        if row_count == limit:
            row_count = _sessions_in(start, end).count()
    return Table(
        key="fill",
        title="Fill rate per session",
        caption_text="Fill rate per session",
        group_label="Course",
        columns=SESSION_COLUMNS,
        rows=rows,
        totals=None,
        suppressed=False,
        chart_column=6,
        notes=[
            "Places taken are bookings holding a place: confirmed, offered, "
            "awaiting approval, attended and did not attend. Cancelled sessions "
            "are listed with their status.",
        ],
        shown_limit=limit,
        row_count=row_count,
    )


def fill_bands(*, start: dt.date, end: dt.date) -> Table:
    """How many scheduled sessions starting from `start` to `end` fall in
    each fill band: counted in one query (each session's places taken by a
    correlated count), not from the rows of `fill_table`."""
    taken = Subquery(
        Booking.objects.filter(session=OuterRef("pk"), status__in=Booking.PLACE_HOLDING)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    scheduled = (
        _sessions_in(start, end)
        .filter(status=Session.Status.SCHEDULED)
        .annotate(taken=Coalesce(taken, 0))
    )

    # A band holds fill rates from `low` up to (not including) `high` per cent:
    # taken * 100 compared with capacity * low, in whole numbers (a session
    # has at least one place).
    def band(low: int, high: int | None) -> Q:
        at_least = Q(GreaterThanOrEqual(F("taken") * 100, F("capacity") * low))
        if high is None:
            return at_least
        return at_least & Q(LessThan(F("taken") * 100, F("capacity") * high))

    counted = scheduled.aggregate(
        **{
            f"band{k}": Count("pk", filter=band(low, high))
            for k, (_, low, high) in enumerate(FILL_BANDS)
        }
    )
    counts = [counted[f"band{k}"] for k in range(len(FILL_BANDS))]
    return Table(
        key="fill-bands",
        title="Scheduled sessions by fill rate",
        caption_text="Scheduled sessions by fill rate",
        group_label="Fill rate",
        columns=[("Sessions", COUNT)],
        rows=[[band[0], n] for band, n in zip(FILL_BANDS, counts, strict=True)],
        totals=["Total", sum(counts)],
        suppressed=False,
    )


def sessions_at_risk(*, now: dt.datetime | None = None) -> Table:
    """Scheduled sessions starting within REPORT_AT_RISK_DAYS with fewer than
    REPORT_AT_RISK_FILL_PERCENT of their places taken. One query."""
    now = now or timezone.now()
    days = settings.REPORT_AT_RISK_DAYS
    percent = settings.REPORT_AT_RISK_FILL_PERCENT
    sessions = (
        _sessions_with_places()
        .filter(
            status=Session.Status.SCHEDULED,
            starts_at__gte=now,
            starts_at__lt=now + dt.timedelta(days=days),
        )
        .annotate(needed=F("capacity") * percent)
        .filter(needed__gt=F("taken") * 100)
        .order_by("starts_at", "id")
    )
    return Table(
        key="at-risk",
        title="Sessions at risk",
        caption_text="Sessions at risk",
        group_label="Course",
        columns=SESSION_COLUMNS,
        rows=[_session_row(s) for s in sessions],
        totals=None,
        suppressed=False,
        chart_column=6,
        notes=[
            f"At risk: a scheduled session starting in the next {days} days with "
            f"fewer than {percent}% of its places taken.",
        ],
    )


# --- funding ---------------------------------------------------------------------

FUNDING_GROUPS = {
    "stream": "Funding stream",
    "round": "Funding round",
    "provider": "Provider",
    "course": "Course",
    "organisation_kind": "Kind of organisation",
    "area": "Area",
}

_NOT_GIVEN = "Not given"


def _funding_key(by: str, prefix: str = ""):
    p = prefix
    if by == "stream":
        return F(f"{p}round__stream__name")
    if by == "round":
        return F(f"{p}round_id")
    if by == "provider":
        return Coalesce(
            F(f"{p}provider__name"), NullIf(Trim(F(f"{p}provider_name")), Value(""))
        )
    if by == "course":
        return Trim(F(f"{p}course_name"))
    if by == "organisation_kind":
        return F(f"{p}organisation__kind")
    return NullIf(Trim(F(f"{p}organisation__area")), Value(""))


def funding_table(
    *, start: dt.date, end: dt.date, by: str, suppressed: bool = True
) -> Table:
    """Funding requests submitted from `start` to `end`: how many were
    approved, declined or are waiting, and the money requested, approved and
    paid. Two queries (requests; payments), grouped in the database."""
    begins, ends = date_range(start, end)
    requests = FundingRequest.objects.filter(
        submitted_at__gte=begins, submitted_at__lt=ends
    )
    approved = Q(amount_approved__isnull=False)
    declined = (
        Q(
            status__in=(
                FundingRequest.Status.DECLINED,
                FundingRequest.Status.NOT_SUPPORTED,
            )
        )
        & ~approved
    )
    grouped = {
        row["key"]: row
        for row in requests.annotate(key=_funding_key(by))
        .values("key")
        .annotate(
            approved=Count("id", filter=approved),
            declined=Count("id", filter=declined),
            waiting=Count("id", filter=~approved & ~declined),
            requested=Sum("cost"),
            approved_sum=Sum("amount_approved"),
        )
        .order_by()
    }
    paid = dict(
        Payment.objects.filter(
            request__submitted_at__gte=begins, request__submitted_at__lt=ends
        )
        .annotate(key=_funding_key(by, "request__"))
        .values("key")
        .annotate(paid=Sum("amount"))
        .order_by()
        .values_list("key", "paid")
    )
    names = _funding_labels(by, grouped.keys())
    keys = sorted(grouped, key=lambda k: (k is None, str(names[k]).lower()))
    labels = [names[k] for k in keys]
    counts = [
        [grouped[k]["approved"], grouped[k]["declined"], grouped[k]["waiting"]]
        for k in keys
    ]
    money = [
        [
            grouped[k]["requested"] or Decimal("0"),
            grouped[k]["approved_sum"] or Decimal("0"),
            paid.get(k) or Decimal("0"),
        ]
        for k in keys
    ]
    rows, totals = _count_rows(labels, counts, width=3, suppressed=suppressed)
    money_totals = [sum((m[j] for m in money), Decimal("0")) for j in range(3)]
    for i, row in enumerate(rows):
        row += _money_cells(row, money[i])
    if totals is not None:
        totals += _money_cells(totals, money_totals)
    return Table(
        key="funding",
        title="Funding requested, approved and paid",
        group_label=FUNDING_GROUPS[by],
        columns=[
            ("Approved", COUNT),
            ("Declined or not supported", COUNT),
            ("Waiting for a decision", COUNT),
            ("Requests", COUNT),
            ("Requested (£)", MONEY),
            ("Approved (£)", MONEY),
            ("Paid (£)", MONEY),
        ],
        rows=rows,
        totals=totals,
        suppressed=suppressed,
        chart_column=6,
        notes=[
            "Requests submitted in the dates chosen, and what has been paid "
            "against them so far.",
        ],
    )


def _money_cells(row: list, money: list[Decimal]) -> list:
    # Money requested goes with the number of requests; approved and paid
    # with the number approved: hidden with them, so no sum is one person's.
    requests_hidden = isinstance(row[4], Hidden)
    approved_hidden = isinstance(row[1], Hidden)
    hidden = Hidden(_threshold())
    return [
        hidden if requests_hidden else money[0],
        hidden if approved_hidden else money[1],
        hidden if approved_hidden else money[2],
    ]


def _funding_labels(by: str, keys) -> dict:
    if by == "round":
        rounds = {
            r.pk: str(r)
            for r in FundingRound.objects.select_related("stream").filter(
                pk__in=[k for k in keys if k is not None]
            )
        }
        return {k: rounds.get(k, "No round") if k else "No round" for k in keys}
    if by == "organisation_kind":
        kinds = dict(Organisation.Kind.choices)
        return {k: str(kinds.get(k, k)) if k else _NOT_GIVEN for k in keys}
    if by == "stream":
        return {k: k or "No funding stream" for k in keys}
    return {k: k or _NOT_GIVEN for k in keys}


# --- workforce monitoring --------------------------------------------------------

WORKFORCE_GROUPS = {
    "organisation_kind": "Kind of organisation",
    "area": "Area",
    "job_role": "Job role",
    "gender": "Gender",
    "age_band": "Age band",
    "ethnicity": "Ethnicity",
    "disability": "Disability",
}

AGE_BANDS = [
    ("under_25", "Under 25", 0, 25),
    ("25_34", "25 to 34", 25, 35),
    ("35_44", "35 to 44", 35, 45),
    ("45_54", "45 to 54", 45, 55),
    ("55_64", "55 to 64", 55, 65),
    ("65_over", "65 and over", 65, None),
]


def _age_band(year: int):
    yob = "person__profile__year_of_birth"
    whens = [
        When(person__profile__year_of_birth_withheld=True, then=Value("prefer_not")),
        When(**{f"{yob}__isnull": True}, then=Value("")),
    ]
    for key, _label, low, high in AGE_BANDS:
        # Age reached in `year`: year - year_of_birth.
        q = Q(**{f"{yob}__lte": year - low})
        if high is not None:
            q &= Q(**{f"{yob}__gt": year - high})
        whens.append(When(q, then=Value(key)))
    return Case(*whens, default=Value(""), output_field=CharField())


def _workforce_key(by: str, year: int):
    profile = "person__profile__"
    if by == "organisation_kind":
        return F(f"{profile}organisation__kind")
    if by == "area":
        return NullIf(Trim(F(f"{profile}organisation__area")), Value(""))
    if by == "job_role":
        return NullIf(Lower(Trim(F(f"{profile}job_title"))), Value(""))
    if by == "age_band":
        return _age_band(year)
    return F(f"{profile}{by}")


def _workforce_order(by: str) -> list[tuple[str, str]] | None:
    """The categories in their natural order, for fields with choices."""
    if by == "organisation_kind":
        return [(k, str(v)) for k, v in Organisation.Kind.choices]
    if by == "age_band":
        return [(k, label) for k, label, _, _ in AGE_BANDS] + [
            ("prefer_not", "Prefer not to say")
        ]
    choices = {
        "gender": Profile.Gender.choices,
        "ethnicity": Profile.Ethnicity.choices,
        "disability": Profile.Disability.choices,
    }.get(by)
    return [(k, str(v)) for k, v in choices] if choices else None


def workforce_table(*, start: dt.date, end: dt.date, by: str) -> Table:
    """People who attended at least one session starting from `start` to
    `end`, counted once each, by one field of their profile (workplace kind
    and area, job role, or an equality field; age band in the year `end`
    falls in). Always suppressed: equality data leaves the database only as
    these totals. One query."""
    begins, ends = date_range(start, end)
    grouped = (
        Booking.objects.filter(
            status=Booking.Status.ATTENDED,
            session__starts_at__gte=begins,
            session__starts_at__lt=ends,
        )
        .annotate(key=_workforce_key(by, end.year))
        .values("key")
        .annotate(
            people=Count("person_id", distinct=True, output_field=IntegerField()),
            # Job roles are grouped ignoring case; one spelling names the group.
            label=Min(Trim("person__profile__job_title")),
        )
        .order_by()
    )
    found = {row["key"]: row["people"] for row in grouped}
    spelling = {row["key"]: row["label"] for row in grouped}
    # A blank answer and no answer are both "not given".
    not_given = found.pop("", 0) + found.pop(None, 0)
    order = _workforce_order(by)
    if order is not None:
        labels = [label for key, label in order]
        values = [found.pop(key, 0) for key, _ in order]
        # Values no longer offered (none today) still count, by their code.
        for key in sorted(found):
            labels.append(str(key))
            values.append(found[key])
    else:
        keys = sorted(found)
        labels = [spelling[k] if by == "job_role" else k for k in keys]
        values = [found[k] for k in keys]
    labels.append(_NOT_GIVEN)
    values.append(not_given)
    rows, totals = _count_rows(
        labels, [[v] for v in values], width=1, suppressed=True, row_totals=False
    )
    total = totals[1] if totals else None
    for row in [*rows, *([totals] if totals else [])]:
        shown = not isinstance(row[1], Hidden) and not isinstance(total, Hidden)
        row.append(_percent(row[1], total) if shown else Hidden(_threshold()))
    return Table(
        key="workforce",
        title="Workforce monitoring: who attends",
        group_label=WORKFORCE_GROUPS[by],
        columns=[("People who attended", COUNT), ("Share (%)", RATE)],
        rows=rows,
        totals=totals,
        suppressed=True,
        notes=[
            "People who attended at least one session starting in the dates "
            "chosen, each counted once, by what their profile says today.",
            "Answers are optional: 'Not given' counts people who left the "
            "question blank.",
        ],
    )
