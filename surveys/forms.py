from django import forms
from django.utils.translation import gettext_lazy as _

from config.bounds import limit_text

from .models import Question, Survey

TEXT_ANSWER_MAX = 2000


def field_name(question: Question) -> str:
    return f"q{question.pk}"


class AnswerForm(forms.Form):
    """One field per question: radios for a choice or a scale, a text area for
    free text. Messages name the question (GOV.UK style)."""

    def __init__(self, survey: Survey, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(survey.questions.all())
        for q in self.questions:
            if q.kind == Question.Kind.TEXT:
                field = forms.CharField(
                    label=q.text,
                    help_text=q.hint,
                    required=q.required,
                    widget=forms.Textarea(attrs={"rows": 4}),
                    error_messages={"required": _("Answer “%s”") % q.text},
                )
                limit_text(field, TEXT_ANSWER_MAX)
            else:
                choices = (
                    [(c, c) for c in q.choice_list]
                    if q.kind == Question.Kind.CHOICE
                    else [(str(n), q.scale_label(n)) for n in range(1, 6)]
                )
                field = forms.ChoiceField(
                    label=q.text,
                    help_text=q.hint,
                    required=q.required,
                    choices=choices,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": _("Choose an answer to “%s”") % q.text,
                        "invalid_choice": _("Choose one of the answers to “%s”")
                        % q.text,
                    },
                )
            self.fields[field_name(q)] = field

    def answers(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(field_name(q)) for q in self.questions}

    def items(self):
        """(question, bound field) in order, for the template."""
        return [(q, self[field_name(q)]) for q in self.questions]
