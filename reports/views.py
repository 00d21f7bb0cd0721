"""Staff report pages under /staff/reports/ (so two-factor authentication
applies). Each needs its reports permission (accounts.roles). Filters and
downloads are GET: the same query string with `download=csv` or
`download=xlsx` gives the file, and every download is audited."""

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors, services
from .charts import MAX_BARS, bar_chart
from .forms import ReportFilterForm, last_twelve_months, next_three_months

BOOKINGS = "reports.view_booking_reports"
FUNDING = "reports.view_funding_report"
WORKFORCE = "reports.view_workforce_report"

REPORTS = [
    (
        "reports:bookings",
        "Bookings and attendance",
        "Bookings, attendance and no-show rates by course, provider, topic or month.",
        BOOKINGS,
    ),
    (
        "reports:fill",
        "Fill rate and sessions at risk",
        "Places taken per session, and upcoming sessions that are filling slowly.",
        BOOKINGS,
    ),
    (
        "reports:funding",
        "Funding",
        "Funding requested, approved and paid by stream, round, provider, course, "
        "kind of organisation and area. Suppressed for commissioners and funders.",
        FUNDING,
    ),
    (
        "reports:workforce",
        "Workforce monitoring",
        "Who attends, by workplace, job role and equality monitoring answers. "
        "Totals only, always suppressed.",
        WORKFORCE,
    ),
]


@login_required
def report_list_view(request: HttpRequest) -> HttpResponse:
    reports = [r for r in REPORTS if request.user.has_perm(r[3])]
    if not reports:
        raise PermissionDenied
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(
        request,
        "reports/report_list.html",
        {"reports": reports, "threshold": settings.REPORT_SUPPRESSION_THRESHOLD},
    )


def _report(
    request: HttpRequest,
    *,
    key: str,
    title: str,
    groups: dict[str, str] | None,
    defaults: Callable,
    build: Callable,
    shared: str,
    download_build: Callable | None = None,
    extra: Callable | None = None,
) -> HttpResponse:
    """Bind the filters, build the table, and render it or hand it over as a
    file. `build(start, end, by)` gives the page's table, `download_build`
    (when the page shows exact figures) the one that may leave the building."""
    default_from, default_to = defaults()
    form = ReportFilterForm(
        request.GET or None,
        groups=groups,
        default_from=default_from,
        default_to=default_to,
    )
    context = {
        "title": title,
        "key": key,
        "form": form,
        "shared": shared,
        "url_name": f"reports:{key}",
        "threshold": settings.REPORT_SUPPRESSION_THRESHOLD,
    }
    if request.GET and not form.is_valid():
        return render(request, "reports/report_detail.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    start = data.get("from") or default_from
    end = data.get("to") or default_to
    by = data.get("by") or (next(iter(groups)) if groups else "")
    filters = f"from {start:%Y-%m-%d} to {end:%Y-%m-%d}" + (
        f", by {groups[by].lower()}" if groups else ""
    )
    fmt = request.GET.get("download", "")
    if fmt in services.FORMATS:
        table = (download_build or build)(start, end, by)
        content, content_type, name = services.download_report(
            table, fmt=fmt, filters=filters, by=request.user
        )
        if hasattr(content, "read"):  # XLSX: sent from its file, then closed
            return FileResponse(
                content, as_attachment=True, filename=name, content_type=content_type
            )
        response = StreamingHttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    table = build(start, end, by)
    query = request.GET.copy()
    query.pop("download", None)
    query["from"], query["to"] = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
    if groups:
        query["by"] = by
    shown_rows = table.rows[: table.shown_limit] if table.shown_limit else table.rows
    context.update(
        {
            "table": table,
            "shown_rows": shown_rows,
            "filters": filters,
            "query": query.urlencode(),
            "chart": _chart(table, f"{key}-chart"),
        }
    )
    if extra:
        context.update(extra(start, end))
    return render(request, "reports/report_detail.html", context)


def _chart(table: selectors.Table, chart_id: str):
    heading = table.columns[table.chart_column - 1][0]
    rows = table.rows
    title = f"{table.title}: {heading.lower()} by {table.group_label.lower()}"
    if len(rows) > MAX_BARS and table.group_label != "Month":
        # Too many to draw: the largest, in the table's order (hidden values,
        # which have no size to show, last).
        def size(row):
            value = row[table.chart_column]
            return value if isinstance(value, int | Decimal) else -1

        largest = set(map(id, sorted(rows, key=size, reverse=True)[:MAX_BARS]))
        rows = [r for r in rows if id(r) in largest]
        title += f" (the {MAX_BARS} largest)"
    return bar_chart(
        chart_id=chart_id,
        title=title,
        labels=[str(r[0]) for r in rows],
        values=[r[table.chart_column] for r in rows],
        table_caption=table.caption,
    )


@login_required
@permission_required(BOOKINGS, raise_exception=True)
@require_GET
def bookings_report_view(request: HttpRequest) -> HttpResponse:
    return _report(
        request,
        key="bookings",
        title="Bookings and attendance",
        groups=selectors.BOOKING_GROUPS,
        defaults=last_twelve_months,
        build=lambda s, e, by: selectors.bookings_table(start=s, end=e, by=by),
        download_build=lambda s, e, by: selectors.bookings_table(
            start=s, end=e, by=by, suppressed=True
        ),
        shared=(
            "This page shows exact figures, for our staff. Its CSV and XLSX "
            "downloads are for sharing with commissioners and funders and are "
            "suppressed."
        ),
    )


@login_required
@permission_required(BOOKINGS, raise_exception=True)
@require_GET
def fill_report_view(request: HttpRequest) -> HttpResponse:
    def extra(start, end):
        bands = selectors.fill_bands(start=start, end=end)
        return {
            "at_risk": selectors.sessions_at_risk(),
            "bands": bands,
            "chart": _chart(bands, "fill-chart"),
        }

    return _report(
        request,
        key="fill",
        title="Fill rate and sessions at risk",
        groups=None,
        defaults=next_three_months,
        build=lambda s, e, by: selectors.fill_table(start=s, end=e),
        # Every session (the page reads the first 500 and counts the rest).
        download_build=lambda s, e, by: selectors.fill_table(
            start=s, end=e, limit=None
        ),
        shared=(
            "For planning by our staff only: figures per session are exact and "
            "not suppressed, so this report and its downloads are not for "
            "sharing outside. Use the bookings report for commissioners."
        ),
        extra=extra,
    )


@login_required
@permission_required(FUNDING, raise_exception=True)
@require_GET
def funding_report_view(request: HttpRequest) -> HttpResponse:
    return _report(
        request,
        key="funding",
        title="Funding",
        groups=selectors.FUNDING_GROUPS,
        defaults=last_twelve_months,
        build=lambda s, e, by: selectors.funding_table(start=s, end=e, by=by),
        shared=(
            "For commissioners and funders: this page and its downloads are suppressed."
        ),
    )


@login_required
@permission_required(WORKFORCE, raise_exception=True)
@require_GET
def workforce_report_view(request: HttpRequest) -> HttpResponse:
    return _report(
        request,
        key="workforce",
        title="Workforce monitoring",
        groups=selectors.WORKFORCE_GROUPS,
        defaults=last_twelve_months,
        build=lambda s, e, by: selectors.workforce_table(start=s, end=e, by=by),
        shared=(
            "Equality monitoring answers are shown only as these totals, never "
            "for one person. This page and its downloads are always suppressed."
        ),
    )
