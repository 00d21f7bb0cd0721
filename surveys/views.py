from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from config.idempotency import idempotent

from . import selectors, services
from .forms import AnswerForm
from .models import Survey


@login_required
@require_http_methods(["GET", "POST"])
@idempotent
def answer_view(request: HttpRequest, key: str) -> HttpResponse:
    survey = get_object_or_404(
        Survey.objects.exclude(status=Survey.Status.DRAFT), key=key
    )
    given = selectors.response_of(survey, request.user)
    refusal = services.why_not_open(survey) or services.why_not_person(request.user)
    if given is not None or refusal:
        return render(
            request,
            "surveys/answer.html",
            {"survey": survey, "given": given, "refusal": refusal},
        )
    form = AnswerForm(survey, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_response(survey, request.user, form.answers())
        except services.SurveyError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Thank you: your answers have been sent.")
        return redirect(survey.get_absolute_url())
    return render(request, "surveys/answer.html", {"survey": survey, "form": form})
