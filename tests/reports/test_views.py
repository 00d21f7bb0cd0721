"""The report pages and their downloads on the small known world of
conftest.py: the figures a user reads on the page, in the CSV and in the XLSX
(read back with openpyxl), who may see what, bad dates, the audit trail and
the number of queries."""

import csv
import datetime as dt
import io
import os
import tempfile
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.http import FileResponse
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import Profile
from courses.models import Course
from privacy.models import AuditEvent
from tests.courses.factories import SessionFactory

from .conftest import RANGE, at

pytestmark = pytest.mark.django_db

URLS = {
    "bookings": "/staff/reports/bookings/",
    "fill": "/staff/reports/fill/",
    "funding": "/staff/reports/funding/",
    "workforce": "/staff/reports/workforce/",
}


class _Tables(HTMLParser):
    """Each <table id=...> as rows of cell texts (what a reader sees)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._id = attrs.get("id")
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def visible(cell: str) -> str:
    """The cell without the words for screen readers."""
    return cell.split(" (fewer than")[0]


def csv_rows(response) -> list[list[str]]:
    # Streamed, a piece at a time.
    content = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    # Sent from a temporary file, a piece at a time.
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment; filename=")
    content = b"".join(response.streaming_content)
    response.close()
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


# --- bookings and attendance ----------------------------------------------------


def test_bookings_by_course_shows_exact_figures_to_staff(world, course_admin):
    response = course_admin.get(URLS["bookings"], {**RANGE, "by": "course"})
    assert response.status_code == 200
    rows = tables(response)["report-table"]
    assert rows[0] == [
        "Course",
        "Attended",
        "Did not attend",
        "Not yet recorded",
        "Cancelled",
        "Bookings",
        "Attendance rate (%)",
        "No-show rate (%)",
    ]
    assert rows[1] == ["Asthma update", "6", "2", "0", "1", "9", "75.0", "25.0"]
    assert rows[2] == ["Baby checks", "3", "0", "5", "0", "8", "100.0", "0.0"]
    assert rows[3] == ["Total", "9", "2", "5", "1", "17", "81.8", "18.2"]
    # The chart has an accessible name and names the table beside it.
    html = response.content.decode()
    assert 'role="img"' in html
    assert (
        '<title id="bookings-chart-title">Bookings and attendance: bookings by course'
        in html
    )
    assert "Bookings and attendance by course" in html


@pytest.mark.parametrize(
    ("by", "first"),
    [
        ("provider", ["Northgate Training", "6", "2", "0", "1", "9", "75.0", "25.0"]),
        ("month", ["March 2026", "6", "2", "0", "1", "9", "75.0", "25.0"]),
        ("topic", ["Leadership", "6", "2", "0", "1", "9", "75.0", "25.0"]),
    ],
)
def test_bookings_by_provider_month_and_topic(world, booking_admin, by, first):
    rows = tables(booking_admin.get(URLS["bookings"], {**RANGE, "by": by}))[
        "report-table"
    ]
    assert rows[1] == first
    if by == "topic":
        # Asthma update is under both topics: no total row counting it twice.
        assert rows[2][:6] == ["Respiratory", "9", "2", "5", "1", "17"]
        assert len(rows) == 3


def test_bookings_download_is_suppressed_in_csv_and_xlsx(world, course_admin):
    query = {**RANGE, "by": "course"}
    csv_data = csv_rows(
        course_admin.get(URLS["bookings"], {**query, "download": "csv"})
    )
    header = csv_data.index(
        [
            "Course",
            "Attended",
            "Did not attend",
            "Not yet recorded",
            "Cancelled",
            "Bookings",
            "Attendance rate (%)",
            "No-show rate (%)",
        ]
    )
    body = csv_data[header + 1 :]
    # 2, 1, 3 and 5 are below 5 or would give one away; the bookings per
    # course (9 and 8) and the grand total stay.
    assert body == [
        ["Asthma update", "<5", "<5", "0", "<5", "9", "<5", "<5"],
        ["Baby checks", "<5", "0", "<5", "0", "8", "<5", "<5"],
        ["Total", "9", "<5", "<5", "<5", "17", "<5", "<5"],
    ]
    xlsx = xlsx_rows(course_admin.get(URLS["bookings"], {**query, "download": "xlsx"}))
    assert xlsx[header + 1 :] == [
        ["Asthma update", "<5", "<5", 0, "<5", 9, "<5", "<5"],
        ["Baby checks", "<5", 0, "<5", 0, 8, "<5", "<5"],
        ["Total", 9, "<5", "<5", "<5", 17, "<5", "<5"],
    ]


def test_every_download_is_an_audit_event(world, course_admin):
    course_admin.get(URLS["bookings"], {**RANGE, "by": "month", "download": "xlsx"})
    event = AuditEvent.objects.get(action="report downloaded")
    assert event.actor == course_admin.user
    assert event.subject == ""
    assert event.detail == (
        "bookings report as XLSX: from 2026-01-01 to 2026-06-30, by month; suppressed"
    )
    # Viewing the page is not a download.
    course_admin.get(URLS["bookings"], RANGE)
    assert AuditEvent.objects.filter(action="report downloaded").count() == 1


def test_an_xlsx_download_is_sent_from_a_nameless_file_closed_after(
    world, course_admin, monkeypatch
):
    """The XLSX is written to a temporary file with no name on disk, sent a
    piece at a time and closed (so gone) when the response is: a download
    of years of sessions is never held in memory whole, nor left behind."""
    from reports import exports

    made, original = [], tempfile.TemporaryFile

    def temporary_file():
        made.append(original())  # the response closes it
        return made[-1]

    monkeypatch.setattr(exports.tempfile, "TemporaryFile", temporary_file)
    response = course_admin.get(
        URLS["bookings"], {**RANGE, "by": "course", "download": "xlsx"}
    )
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"] == (
        'attachment; filename="bookings-report.xlsx"'
    )
    [file] = made
    assert not file.closed
    assert os.fstat(file.fileno()).st_nlink == 0
    content = b"".join(response.streaming_content)
    response.close()
    assert file.closed
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(
            values_only=True
        )
    ]
    assert any(row[0] == "Asthma update" for row in rows)


def test_a_course_named_like_a_formula_is_text_in_the_downloads(world, course_admin):
    Course.objects.filter(title="Asthma update").update(title='=HYPERLINK("x")')
    rows = csv_rows(
        course_admin.get(URLS["bookings"], {**RANGE, "by": "course", "download": "csv"})
    )
    assert ['\'=HYPERLINK("x")', "<5", "<5", "0", "<5", "9", "<5", "<5"] in rows
    book = xlsx_rows(
        course_admin.get(
            URLS["bookings"], {**RANGE, "by": "course", "download": "xlsx"}
        )
    )
    assert any(r[0] == '\'=HYPERLINK("x")' for r in book)


# --- fill rate -----------------------------------------------------------------


def test_fill_rate_per_session_and_sessions_at_risk(world, booking_admin, settings):
    settings.REPORT_AT_RISK_DAYS = 14
    settings.REPORT_AT_RISK_FILL_PERCENT = 50
    from django.utils import timezone

    soon = SessionFactory.create(
        course=world["a1"].course,
        starts_at=timezone.now() + dt.timedelta(days=5),
        capacity=10,
    )
    SessionFactory.create(
        course=world["a1"].course,
        starts_at=timezone.now() + dt.timedelta(days=30),
        capacity=10,
    )
    from bookings.models import Booking

    Booking.objects.bulk_create(
        [
            Booking(person=p, session=soon, status="confirmed")
            for p in world["people"][:4]
        ]
    )
    response = booking_admin.get(URLS["fill"], RANGE)
    page = tables(response)
    assert page["report-table"][1] == [
        "Asthma update",
        "10 Mar 2026 10:00",
        "Scheduled",
        "20",
        "8",
        "1",
        "40.0",
    ]
    assert page["report-table"][2][3:] == ["10", "8", "0", "80.0"]
    assert page["fill-chart-table"][1:] == [
        ["Under 25%", "0"],
        ["25% to 49%", "1"],
        ["50% to 74%", "0"],
        ["75% to 99%", "1"],
        ["Full", "0"],
        ["Total", "2"],
    ]
    # The one at risk: 4 of 10 places, in 5 days; the one in 30 days is not.
    at_risk = page["at-risk-table"]
    assert len(at_risk) == 2
    assert at_risk[1][3:] == ["10", "4", "0", "40.0"]
    assert (
        "At risk: a scheduled session starting in the next 14 days with fewer "
        "than 50% of its places taken." in response.content.decode()
    )


def test_a_fill_page_reads_its_first_rows_and_counts_the_rest(world, booking_admin):
    """A range of years held hundreds of thousands of sessions: the page
    built a row for each (and its bands from them) to show 500."""
    from reports import selectors

    SessionFactory.create(course=world["a1"].course, starts_at=at("2026-05-04"))
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    # For a download: every row, read as written out (a generator).
    every = list(selectors.fill_table(start=start, end=end, limit=None).rows)
    assert len(every) == 3
    first = selectors.fill_table(start=start, end=end, limit=2)
    assert first.rows == every[:2]
    assert first.rows_in_all == 3
    with CaptureQueriesContext(connection) as queries:
        selectors.fill_table(start=start, end=end, limit=2)
    assert len(queries) == 2  # the rows, then the count

    response = booking_admin.get(URLS["fill"], RANGE)
    in_range = selectors.fill_table(
        start=dt.date.fromisoformat(RANGE["from"]),
        end=dt.date.fromisoformat(RANGE["to"]),
        limit=None,
    )
    assert response.context["table"].rows_in_all == len(list(in_range.rows))


@pytest.mark.parametrize(
    ("capacity", "taken", "band"),
    [
        (4, 0, "Under 25%"),
        (4, 1, "25% to 49%"),  # exactly 25
        (3, 2, "50% to 74%"),  # 66.7
        (4, 3, "75% to 99%"),  # exactly 75
        (2000, 1999, "75% to 99%"),  # 99.95, shown as 100.0, but not full
        (4, 4, "Full"),
        (4, 5, "Full"),  # over, by staff
    ],
)
def test_each_session_falls_in_the_band_of_its_fill(world, capacity, taken, band):
    from django.utils import timezone

    from bookings.models import Booking
    from reports import selectors
    from tests.accounts.factories import UserFactory

    starts = timezone.now() + dt.timedelta(days=400)
    session = SessionFactory.create(starts_at=starts, capacity=capacity)
    Booking.objects.bulk_create(
        Booking(person=p, session=session, status="confirmed")
        for p in UserFactory.create_batch(taken)
    )
    bands = selectors.fill_bands(start=starts.date(), end=starts.date())
    assert [row for row in bands.rows if row[1]] == [[band, 1]]


def test_a_csv_download_is_sent_in_pieces(world, booking_admin, monkeypatch):
    """Every session of a five-year range is never held whole: the CSV is
    streamed a thousand rows at a time (two here)."""
    from reports import exports

    monkeypatch.setattr(exports, "CSV_ROWS_PER_PIECE", 1)
    for day in ("2026-05-04", "2026-05-05"):
        SessionFactory.create(course=world["a1"].course, starts_at=at(day))
    response = booking_admin.get(URLS["fill"], {**RANGE, "download": "csv"})
    assert response.streaming
    pieces = list(response.streaming_content)
    assert len(pieces) >= 4  # the mark, a piece per session, the rest
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    # The two sessions added come last, whole, in date order.
    assert [(r[0], r[1].split(" 2026")[0]) for r in rows[-2:]] == [
        ("Asthma update", "4 May"),
        ("Asthma update", "5 May"),
    ]


def test_fill_download_is_exact_and_says_it_is_internal(world, booking_admin):
    response = booking_admin.get(URLS["fill"], {**RANGE, "download": "csv"})
    rows = csv_rows(response)
    assert [
        "Asthma update",
        "10 Mar 2026 10:00",
        "Scheduled",
        "20",
        "8",
        "1",
        "40.0",
    ] in rows
    page = booking_admin.get(URLS["fill"], RANGE).content.decode()
    assert "not for sharing outside" in page


# --- funding -------------------------------------------------------------------


def test_funding_by_kind_of_organisation_is_suppressed(world, funding_officer):
    response = funding_officer.get(
        URLS["funding"], {**RANGE, "by": "organisation_kind"}
    )
    rows = tables(response)["report-table"]
    cells = [[visible(c) for c in r] for r in rows]
    assert cells[1:] == [
        ["GP practice", "<5", "0", "0", "<5", "<5", "<5", "<5"],
        ["School or academy", "0", "<5", "<5", "<5", "<5", "£0.00", "£0.00"],
        ["Total", "<5", "<5", "<5", "8", "£930.00", "<5", "<5"],
    ]
    assert "this page and its downloads are suppressed" in response.content.decode()


def test_funding_by_course_unsuppressed_total_and_money(world, funding_officer):
    rows = xlsx_rows(
        funding_officer.get(
            URLS["funding"], {**RANGE, "by": "stream", "download": "xlsx"}
        )
    )
    assert rows[-1] == ["Total", "<5", "<5", "<5", 8, 930.0, "<5", "<5"]
    assert rows[-2][0] == "Primary care CPD"


def test_funding_money_is_exact_when_counts_are_large(world, funding_officer, settings):
    settings.REPORT_SUPPRESSION_THRESHOLD = 1
    rows = csv_rows(
        funding_officer.get(
            URLS["funding"], {**RANGE, "by": "round", "download": "csv"}
        )
    )
    assert [
        "Primary care CPD: Spring",
        "6",
        "1",
        "1",
        "8",
        "930.00",
        "600.00",
        "200.00",
    ] in rows


# --- workforce -----------------------------------------------------------------


def test_workforce_by_gender_is_totals_only_and_suppressed(world, dpo):
    response = dpo.get(URLS["workforce"], {**RANGE, "by": "gender"})
    rows = [[visible(c) for c in r] for r in tables(response)["report-table"]]
    assert rows[1:] == [
        ["Woman", "6", "66.7"],
        ["Man", "<5", "<5"],
        ["Non-binary", "0", "0.0"],
        ["Another gender", "0", "0.0"],
        ["Prefer not to say", "0", "0.0"],
        ["Not given", "<5", "<5"],
        ["Total", "9", "100.0"],
    ]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("age_band", {"35 to 44": "<5", "65 and over": "<5", "Not given": "<5"}),
        ("area", {"North Westmoor": "6", "South Westmoor": "<5"}),
        ("job_role", {"GP": "<5", "Practice nurse": "<5", "Teacher": "<5"}),
        ("ethnicity", {"White": "<5", "Asian or Asian British": "<5"}),
        ("disability", {"Yes": "<5", "No": "<5", "Not given": "<5"}),
        ("organisation_kind", {"GP practice": "6", "School or academy": "<5"}),
    ],
)
def test_workforce_by_each_field(world, dpo, by, expected):
    rows = tables(dpo.get(URLS["workforce"], {**RANGE, "by": by}))["report-table"]
    seen = {r[0]: visible(r[1]) for r in rows[1:]}
    for label, value in expected.items():
        assert seen[label] == value
    assert seen["Total"] == "9"


def test_no_page_shows_anyones_equality_answer_or_name(world, dpo):
    people = world["people"][:9]
    for k, person in enumerate(people):
        person.last_name = f"Quillfeather{k}"
        person.save(update_fields=["last_name"])
    for url in URLS.values():
        for by in ("course", "gender", "ethnicity", "stream", ""):
            html = dpo.get(url, {**RANGE, "by": by} if by else RANGE).content.decode()
            for person in people:
                assert person.email not in html
                assert person.last_name not in html
    assert Profile.objects.filter(ethnicity="asian").count() == 2


# --- who may see what ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("course_admin", {"bookings", "fill"}),
        ("booking_admin", {"bookings", "fill"}),
        ("funding_officer", {"funding"}),
        ("dpo", {"bookings", "fill", "funding", "workforce"}),
        ("learner", set()),
    ],
)
def test_each_role_sees_its_reports(world, request, role, allowed):
    client = request.getfixturevalue(role)
    for key, url in URLS.items():
        for query in ({}, {"download": "csv"}):
            response = client.get(url, query)
            assert response.status_code == (200 if key in allowed else 403), (
                key,
                query,
            )
    index = client.get("/staff/reports/")
    assert index.status_code == (200 if allowed else 403)
    if allowed:
        for key, url in URLS.items():
            assert (f'href="{url}"' in index.content.decode()) == (key in allowed)


def test_signed_out_is_sent_to_log_in(client):
    response = client.get(URLS["workforce"])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- bad dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-02-30"}, "from", "From date must be a real date"),
        ({"to": "yesterday"}, "to", "To date must be a real date"),
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "to",
            "must be the same as or after",
        ),
        ({"from": "1800-01-01"}, "from", "Enter a date in or after 1900"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "to", "5 years or less"),
        ({"by": "person"}, "by", "Choose one of the groupings"),
        ({"from": "9" * 300}, "from", "must be a real date"),
    ],
)
def test_a_bad_filter_is_a_linked_error_not_a_500(world, dpo, query, field, message):
    response = dpo.get(URLS["bookings"], query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    # A date's error links to its day box.
    target = f"id_{field}_day" if field in ("from", "to") else f"id_{field}"
    assert f'href="#{target}"' in html
    assert message in html
    # No report, and no download either.
    assert "report-table" not in html
    response = dpo.get(URLS["bookings"], {**query, "download": "csv"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="report downloaded").exists()


def test_day_month_year_dates_are_read_too(world, course_admin):
    response = course_admin.get(
        URLS["bookings"], {"from": "01/01/2026", "to": "30/06/2026", "by": "course"}
    )
    assert tables(response)["report-table"][-1][5] == "17"


# --- queries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "by", "most"),
    [
        ("bookings", "course", 12),
        ("bookings", "topic", 12),
        ("fill", "", 13),
        ("funding", "round", 13),
        ("funding", "area", 13),
        ("workforce", "age_band", 12),
        ("workforce", "job_role", 12),
    ],
)
def test_query_counts_do_not_grow_with_the_data(
    world, dpo, django_assert_max_num_queries, key, by, most
):
    query = {**RANGE, **({"by": by} if by else {})}
    with django_assert_max_num_queries(most):
        assert dpo.get(URLS[key], query).status_code == 200
    # Ten times the sessions and bookings: the same number of queries.
    from bookings.models import Booking
    from tests.funding.factories import cheap_people

    people = cheap_people(30)
    for day in range(1, 11):
        session = SessionFactory.create(starts_at=at(f"2026-05-{day:02d}"))
        Booking.objects.bulk_create(
            [Booking(person=p, session=session, status="attended") for p in people]
        )
    with django_assert_max_num_queries(most):
        assert dpo.get(URLS[key], query).status_code == 200
    with django_assert_max_num_queries(most + 2):
        assert dpo.get(URLS[key], {**query, "download": "xlsx"}).status_code == 200


@pytest.mark.parametrize("key", list(URLS))
def test_a_range_with_nothing_in_it_shows_zeros(world, dpo, key):
    response = dpo.get(URLS[key], {"from": "2020-01-01", "to": "2020-01-31"})
    assert response.status_code == 200
    rows = tables(response)["report-table"]
    if key in ("bookings", "funding"):
        assert rows[1] == ["Nothing in these dates."]
        assert rows[2][0] == "Total"
        assert set(rows[2][1:5]) == {"0"}
    elif key == "workforce":
        assert rows[-1] == ["Total", "0", "\u2013"]  # no share of nobody
    csv_data = csv_rows(
        dpo.get(
            URLS[key], {"from": "2020-01-01", "to": "2020-01-31", "download": "csv"}
        )
    )
    assert csv_data[0] == [
        {
            "bookings": "Bookings and attendance",
            "fill": "Fill rate per session",
            "funding": "Funding requested, approved and paid",
            "workforce": "Workforce monitoring: who attends",
        }[key]
    ]


def test_the_back_office_and_the_funding_queue_link_to_the_reports(
    world, funding_officer, learner
):
    assert 'href="/staff/reports/"' in funding_officer.get("/admin/").content.decode()
    queue = funding_officer.get("/staff/funding/").content.decode()
    assert 'href="/staff/reports/funding/"' in queue


def test_erasing_a_person_keeps_every_report_total(world, dpo):
    """Erasure (through the privacy registry) anonymises the person but keeps
    their bookings and requests as anonymous rows: totals do not move; their
    equality answers go, so they count as "Not given"."""
    from privacy.services import erase_person

    def totals():
        return {
            (key, by): tables(dpo.get(URLS[key], {**RANGE, "by": by}))["report-table"][
                -1
            ]
            for key, by in (
                ("bookings", "course"),
                ("funding", "stream"),
                ("workforce", "gender"),
            )
        }

    before = totals()
    woman = world["people"][0]  # attended, and has an approved request
    erase_person(woman, by=dpo.user)
    assert totals() == before
    gender = tables(dpo.get(URLS["workforce"], {**RANGE, "by": "gender"}))[
        "report-table"
    ]
    assert [visible(c) for c in gender[1]] == ["Woman", "5", "55.6"]
