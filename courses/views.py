from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import selectors
from .forms import PER_PAGE_CHOICES, CatalogueForm
from .models import Course


def home_view(request: HttpRequest) -> HttpResponse:
    sessions = selectors.sessions_for_home()
    return render(request, "courses/home.html", {"sessions": sessions})


def _page_number(raw: str | None, problems: list[str]) -> int:
    if raw in (None, ""):
        return 1
    if not raw.isdigit() or int(raw) < 1:
        problems.append(
            _("There is no page “%(page)s”; showing the first page")
            % {"page": raw[:20]}
        )
        return 1
    return int(raw)


def course_list_view(request: HttpRequest) -> HttpResponse:
    form = CatalogueForm(
        request.GET,
        topics=list(selectors.topics_all()),
        providers=list(selectors.providers_all()),
    )
    form.is_valid()
    data = form.cleaned_data
    problems = [str(e) for errors in form.errors.values() for e in errors]
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
    per_page = request.GET.get("per_page", "20")
    per_page = (
        int(per_page)
        if per_page.isdigit() and int(per_page) in PER_PAGE_CHOICES
        else 20
    )
    paginator = Paginator(selectors.courses_for_catalogue(filters), per_page)
    number = _page_number(request.GET.get("page"), problems)
    if number > paginator.num_pages:
        problems.append(
            _("There are only %(n)s pages; showing the last one")
            % {"n": paginator.num_pages}
        )
        number = paginator.num_pages
    page = paginator.page(number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "courses/course_list.html",
        {
            "form": form,
            "page": page,
            "courses": page.object_list,
            "problems": problems,
            "query": query.urlencode(),
            "searching": bool(filters.q),
        },
    )


def course_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    preview = request.user.has_perm("courses.change_course")
    try:
        course = selectors.course_get_published(slug=slug, preview=preview)
    except Course.DoesNotExist:
        raise Http404(_("No course found")) from None
    sessions = selectors.sessions_for_course(course=course)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "sessions": sessions,
            "is_preview": course.status != "published",
        },
    )
