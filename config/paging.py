"""Lists that grow without bound (a person's past bookings, sessions
attended, transactions, choices and disclosures; an organisation's invoices,
ledger and members), shown a page at a time, so that a page costs the same
however long they grow. (`capped_page`, at the end, is for the staff queues
paged by number.)

Each page is one query with no count: one row more than a page says whether
there is a next one. A page names itself in its own query-string parameter
(?past=2, ?attended=3), so a page with several such lists keeps each list's
page when another is turned. The links are rendered by
templates/includes/rows_pages.html ("Newer" and "Older" unless told
otherwise).
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict

from .numbers import parse_int

PER_PAGE = 20


@dataclass
class RowsPage:
    """A page of a list that grows without bound (most of them newest first)."""

    object_list: list
    number: int
    has_next: bool
    # The query-string parameter that names the page, and the addresses of
    # the newer and older pages (the other lists' pages kept).
    param: str = "past"
    newer_url: str = ""
    here_url: str = ""
    older_url: str = ""

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def page_of(request: HttpRequest, rows, param: str) -> RowsPage:
    """`rows` (an ordered queryset) PER_PAGE at a time, the page named
    by ?`param`=N. A page past the end shows the last one; a page that is not
    a number, the first. Its links are set by `link_pages`."""
    number = parse_int(request.GET.get(param), default=1, minimum=1, maximum=10_000)
    while True:
        start = (number - 1) * PER_PAGE
        found = list(rows[start : start + PER_PAGE + 1])
        if found or number == 1:
            break
        # Past the end (an old link): the last page, found by counting once.
        number = max(1, -(-rows.count() // PER_PAGE))
    return RowsPage(found[:PER_PAGE], number, len(found) > PER_PAGE, param)


def link_pages(*pages: RowsPage, keep: dict[str, str] | None = None) -> None:
    """The newer, current and older addresses of each of a page's lists,
    each keeping the page the other lists show (only their parameters, and
    only when past the first page) and the parameters in `keep` (a search)."""
    for page in pages:

        def url(n: int, page=page) -> str:
            query = QueryDict(mutable=True)
            query.update({k: v for k, v in (keep or {}).items() if v})
            for other in pages:
                if other is not page and other.number > 1:
                    query[other.param] = str(other.number)
            query[page.param] = str(n)
            return f"?{query.urlencode()}#{page.param}"

        page.newer_url = url(page.number - 1)
        page.here_url = url(page.number)
        page.older_url = url(page.number + 1)


def capped_page(
    request: HttpRequest, rows, *, per_page: int, cap: int
) -> tuple[Page, bool]:
    """For a list staff filter and page through by number (the funding
    queues): the page of `rows` named by ?page=N, counted up to `cap` only,
    as the catalogue is, and paged up to there; and whether there are more
    than `cap` (which the page says, asking for a filter). Counting every
    row, and a deep page's OFFSET, would grow with the rows."""
    paginator = Paginator(rows, per_page)
    found = rows.order_by().values("pk")[: cap + 1].count()
    paginator.count = min(found, cap)
    number = parse_int(request.GET.get("page"), default=1, minimum=1)
    return paginator.get_page(number), found > cap
