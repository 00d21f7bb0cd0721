"""The admin side of four eyes, shared by the user admin (deactivation) and the
data-subject request admin (erasure): the page that asks for the reason when a
pending request is rejected or cancelled, and how a request's time is shown."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import OUTCOMES, RefusalForm


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %b %Y, %H:%M")


def asked_by(person) -> str:
    return person or _("Someone no longer on record")


def refusal_step(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    *,
    action_name: str,
    title: str,
    pending_text: str,
    reject: Callable[[str], str],
    error: type[Exception],
    done: Callable[[str], str],
):
    """Ask for the reason (admin/four_eyes_refuse.html); once given, call
    `reject(reason)` (it returns "rejected" or "cancelled") and show `done` of
    that outcome, or the error the service raised."""
    form = RefusalForm(request.POST if request.POST.get("confirm") else None)
    if form.is_valid():
        try:
            outcome = reject(form.cleaned_data["reason"])
        except error as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
            return None
        modeladmin.message_user(request, done(OUTCOMES[outcome]), messages.SUCCESS)
        return None
    return TemplateResponse(
        request,
        "admin/four_eyes_refuse.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "pending_text": pending_text,
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "action_name": action_name,
            "opts": modeladmin.model._meta,
        },
    )
