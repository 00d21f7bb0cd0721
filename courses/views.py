import re
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.selectors import account_to_charge, roles_held
from config.numbers import parse_int
from config.widgets import fold_date_parts

from . import selectors, services
from .forms import PER_PAGE_CHOICES, CatalogueForm
from .models import Course

# The catalogue's query-string parameters (DESIGN.md); the count depends only on
# the first eight.
FILTER_PARAMS = ("q", "topic", "mode", "provider", "from", "to", "free", "available")
CATALOGUE_PARAMS = (*FILTER_PARAMS, "sort", "page", "per_page")


def home_view(request: HttpRequest) -> HttpResponse:
    """The next sessions. For a visitor with no session the whole page comes
    from the catalogue cache (it changes only when the catalogue does or the
    next session starts), like the catalogue's own pages."""

    store = services.CatalogueCache(timezone.now())

    def page(**extra) -> str:
        sessions = list(selectors.sessions_for_home())
        # The page changes when the first session shown starts.
        store.unchanged_until(sessions[0].starts_at if sessions else None)
        context = {"sessions": sessions, **extra}
        return render_to_string("courses/home.html", context, request=request)

    if not _visitor_without_session(request):
        return HttpResponse(page())
    return HttpResponse(_whole_page(request, store, "home", "", page))


def _page_number(raw: str | None, problems: list[tuple[str, str]]) -> int:
    if raw in (None, ""):
        return 1
    number = parse_int(raw, minimum=1)
    if number is None:
        problems.append(
            (
                _("There is no page “%(page)s”; showing the first page")
                % {"page": raw[:20]},
                "results",
            )
        )
        return 1
    return number


def _catalogue_params(query: QueryDict, names: tuple[str, ...]) -> QueryDict:
    """The parameters `names` in a fixed order, each with the value a form
    field reads (the last one), empty ones left out. A catalogue page depends
    on these alone, the catalogue version and the time, so they key the cache.
    """
    params = QueryDict(mutable=True)
    # Dates come as day, month and year boxes (or as one ISO value in a link).
    folded = fold_date_parts(query, ("from", "to"))
    for name in names:
        if value := folded.get(name, query.get(name, "")):
            params[name] = value
    return params


def _catalogue_content(
    params: QueryDict, store: services.CatalogueCache
) -> tuple[str, str]:
    """The page title and the content of the catalogue page for `params`.

    Rendered without the request: nothing about the visitor can end up in it.
    """
    # Courses whose next session has started since are moved on first: the
    # page and its count read `Course.next_session_at`. The same query says
    # until when the page stays right.
    store.unchanged_until(services.refresh_next_sessions(now=store.now))
    # The topics and providers to choose from, shared by every search.
    topics, providers = store.get_or_build(
        "choices",
        "",
        lambda: (list(selectors.topics_all()), list(selectors.providers_all())),
    )
    form = CatalogueForm(params, topics=topics, providers=providers)
    form.is_valid()
    data = form.cleaned_data
    # (message, the id of what it is about): each is a link in the summary.
    problems = [
        (str(e), form[name].first_input_id or f"id_{name}")
        for name, errors in form.errors.items()
        if name in form.fields
        for e in errors
    ]
    filters = selectors.CatalogueFilters(
        q=data.get("q", ""),
        topic=form.topics.get(data.get("topic") or ""),
        mode=data.get("mode", ""),
        provider=form.providers.get(data.get("provider") or ""),
        date_from=data.get("from"),
        date_to=data.get("to"),
        free=bool(data.get("free")),
        available=bool(data.get("available")),
        sort=data.get("sort", ""),
    )
    per_page = parse_int(params.get("per_page"), default=20)
    if per_page not in PER_PAGE_CHOICES:
        per_page = 20
    listing = selectors.courses_for_catalogue(filters, now=store.now)
    paginator = Paginator(listing, per_page)
    # The count has a cheaper query of its own, and every page and sort order
    # of the same search shares it. A listing sorted in full (ranked, by
    # title, or by date within dates) reads its count and this page's
    # matches in one query (CoursesByIds.counted, `window`).
    # It is counted up to CATALOGUE_COUNT_CAP: beyond, the page says "more
    # than" and offers the pages up to the cap.
    number = _page_number(params.get("page"), problems)
    found = store.get_or_build(
        "count",
        _catalogue_params(params, FILTER_PARAMS).urlencode(),
        selectors.catalogue_count(
            listing,
            filters,
            now=store.now,
            window=((number - 1) * per_page, number * per_page),
        ),
    )
    more_than = found > selectors.CATALOGUE_COUNT_CAP
    paginator.count = min(found, selectors.CATALOGUE_COUNT_CAP)
    if number > paginator.num_pages:
        problems.append(
            (
                _("There are only %(n)s pages; showing the last one")
                % {"n": paginator.num_pages},
                "results",
            )
        )
        number = paginator.num_pages
    page = paginator.page(number)
    page.object_list = selectors.with_next_places_left(page.object_list)
    query = params.copy()
    query.pop("page", None)
    content = render_to_string(
        "courses/course_list_content.html",
        {
            "form": form,
            "page": page,
            "courses": page.object_list,
            "problems": problems,
            "query": query.urlencode(),
            "more_than": more_than,
        },
    )
    if filters.q:
        title = _("Search results for “%(q)s”") % {"q": data["q"]}
    else:
        title = _("Courses")
    if page.number > 1:
        title += _(" (page %(n)s)") % {"n": page.number}
    if problems:
        title = _("Error: %(title)s") % {"title": title}
    return title, content


# Stand-ins for the only per-visitor parts of a whole page served to a visitor
# with no session: the CSRF token of the cookie banner, the page's own address
# and the Content-Security-Policy nonce of its inline scripts (new per response).
_CSRF_SLOT = "csrf-slot-7d2f0c9e"
_PATH_SLOT = "path-slot-7d2f0c9e"
_NONCE_SLOT = "nonce-slot-7d2f0c9e"
# A whole page is kept split at the stand-ins, which it keeps in the odd places:
# joining the parts with this visitor's values costs half a microsecond, where
# replacing three stand-ins in 26 KB of text cost 24.
_SLOTS = re.compile(
    "(" + "|".join(map(re.escape, (_CSRF_SLOT, _PATH_SLOT, _NONCE_SLOT))) + ")"
)


def _visitor_without_session(request: HttpRequest) -> bool:
    """No session and no pending message: the layout is the same for every such
    visitor but for the banner choice, the CSRF token and the address."""
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and len(messages.get_messages(request)) == 0
    )


def course_list_view(request: HttpRequest) -> HttpResponse:
    params = _catalogue_params(request.GET, CATALOGUE_PARAMS)
    store = services.CatalogueCache(timezone.now())

    def page(**extra) -> str:
        title, content = store.get_or_build(
            "page", params.urlencode(), lambda: _catalogue_content(params, store)
        )
        # Our own render of course_list_content.html, escaped there.
        context = {"title": title, "content": mark_safe(content), **extra}  # noqa: S308
        return render_to_string("courses/course_list.html", context, request=request)

    if not _visitor_without_session(request):
        return HttpResponse(page())
    return HttpResponse(_whole_page(request, store, "whole", params.urlencode(), page))


def _whole_page(
    request: HttpRequest,
    store: services.CatalogueCache,
    kind: str,
    params: str,
    page: Callable[..., str],
) -> str:
    """The whole page for a visitor without a session, from the cache: keyed by
    what the cookie banner depends on; their CSRF token, address and nonce are
    put in on the way out, each only if the page has a place for it (a page
    without the banner's form sets no CSRF cookie). `page(**extra)` renders it
    with `extra` in the context."""
    variant = f"{request.COOKIES.get('cookie_choice', '')}|{request.headers.get('Sec-GPC', '')}"
    # "parts", not the page: a value of the shape an older release kept (the
    # page as one string) is never read.
    parts = store.get_or_build(
        f"{kind}-parts",
        f"{variant}?{params}",
        lambda: tuple(
            _SLOTS.split(
                page(
                    csrf_token=_CSRF_SLOT,
                    current_path=_PATH_SLOT,
                    CSP_NONCE=_NONCE_SLOT,
                )
            )
        ),
    )
    fill = {
        _CSRF_SLOT: lambda: get_token(request),
        _PATH_SLOT: lambda: escape(request.get_full_path()),
        _NONCE_SLOT: lambda: str(request.csp_nonce),
    }
    values = {slot: fill[slot]() for slot in set(parts[1::2])}
    return "".join([values[part] if i % 2 else part for i, part in enumerate(parts)])


def course_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A course and its dates. For a visitor with no session the whole page
    comes from the catalogue cache, kept until a booking or any other change
    to the catalogue, or until the first moment it would read differently: a
    date starts, booking for one closes, or a reservation of places ends."""
    if not _visitor_without_session(request):
        return HttpResponse(_course_page(request, slug))
    store = services.CatalogueCache(timezone.now())
    return HttpResponse(
        _whole_page(
            request,
            store,
            "course",
            slug,
            lambda **extra: _course_page(request, slug, store, **extra),
        )
    )


def _course_page(
    request: HttpRequest,
    slug: str,
    store: services.CatalogueCache | None = None,
    **extra,
) -> str:
    # Staff who may change courses see unpublished ones too (a preview). The
    # permission is asked only about an unpublished course: asking costs
    # two queries, which a published course's page (nearly every one) saves.
    try:
        course = selectors.course_get_published(slug=slug, preview=True)
    except Course.DoesNotExist:
        raise Http404(_("No course found")) from None
    if course.status != Course.Status.PUBLISHED and not request.user.has_perm(
        "courses.change_course"
    ):
        raise Http404(_("No course found"))
    # Places left as this viewer may take them: ring-fenced places count only
    # for the members they are reserved for.
    now = timezone.now()
    sessions = selectors.sessions_with_places_for(
        selectors.sessions_for_course(course=course),
        person=request.user if request.user.is_authenticated else None,
        now=now,
    )
    if store is not None:
        store.unchanged_until(selectors.sessions_unchanged_until(sessions, now=now))
    charge_account, booker_for = None, []
    if request.user.is_authenticated:
        charge_account = account_to_charge(request.user)
        booker_for = [m.organisation for m in roles_held(request.user) if m.is_booker]
    return render_to_string(
        "courses/course_detail.html",
        {
            "course": course,
            "sessions": sessions,
            "is_preview": course.status != "published",
            # "Charge to <organisation>" only when it pays on account for them.
            "charge_account": charge_account,
            # An organisation's booker may book members onto a session.
            "booker_for": booker_for,
            **extra,
        },
        request=request,
    )
