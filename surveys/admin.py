"""Surveys in the back office: staff build the questions while a survey is a
draft, open and close it, and see its results only as suppressed totals. No
page shows one person's answers."""

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from config.bounds import LONG_TEXT, bound_date, limit_text

from . import selectors, services
from .models import Question, Survey


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = (
            "order",
            "kind",
            "text",
            "hint",
            "choices",
            "low_label",
            "high_label",
            "required",
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Question.Kind.CHOICE:
            choices = [
                c for c in (cleaned.get("choices") or "").splitlines() if c.strip()
            ]
            if len(choices) < 2:
                self.add_error("choices", _("Give at least two choices, one per line."))
            elif any(len(c.strip()) > 200 for c in choices):
                self.add_error("choices", _("Keep each choice under 200 characters."))
        return cleaned


limit_text(QuestionForm.base_fields["choices"], 4000)


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ("title", "introduction", "closes_at")


limit_text(SurveyForm.base_fields["introduction"], LONG_TEXT)
bound_date(SurveyForm.base_fields["closes_at"], years_ahead=5)


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionForm
    extra = 1

    def _editable(self, obj) -> bool:
        # Questions change only while nobody can answer: totals stay meaningful.
        return obj is None or obj.status == Survey.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    form = SurveyForm
    inlines = (QuestionInline,)
    list_display = ("title", "status", "closes_at", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)
    readonly_fields = ("status", "link", "results")
    fieldsets = (
        (None, {"fields": ("title", "introduction", "closes_at", "status", "link")}),
        (_("Results"), {"fields": ("results",)}),
    )
    actions = ("open_selected", "close_selected")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("link"))
    def link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return _(
            "Send it with a campaign on the “Surveys” purpose that names this "
            "survey: the link is added to each email for you."
        )

    @admin.display(description=_("results"))
    def results(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return render_to_string(
            "surveys/admin_results.html", {"results": selectors.results(obj)}
        )

    def _each(self, request, queryset, service, done: str):
        for survey in queryset:
            try:
                service(survey, by=request.user)
            except services.SurveyError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{survey}: {done}", messages.SUCCESS)

    @admin.action(
        description=_("Open selected surveys to answers"), permissions=["change"]
    )
    def open_selected(self, request, queryset):
        self._each(request, queryset, services.open_survey, _("open"))

    @admin.action(description=_("Close selected surveys"), permissions=["change"])
    def close_selected(self, request, queryset):
        self._each(request, queryset, services.close_survey, _("closed"))
