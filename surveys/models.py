"""Short surveys built by staff and sent through marketing (a campaign on the
`surveys` purpose), answered by signed-in people once each, and shown to staff
only as suppressed totals (`surveys.selectors.results`)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_key() -> str:
    return secrets.token_urlsafe(16)


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft: not open to answers")
        OPEN = "open", _("Open to answers")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(
        _("introduction"),
        blank=True,
        help_text=_("Shown above the questions: why you ask, how long it takes."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    closes_at = models.DateTimeField(
        _("closes at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to keep it open until you close it."),
    )
    # The survey's address: unguessable, so only people sent the link answer.
    key = models.CharField(max_length=40, unique=True, default=new_key, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("surveys:answer", args=[self.key])


class Question(models.Model):
    class Kind(models.TextChoices):
        CHOICE = "choice", _("One choice from a list")
        SCALE = "scale", _("A scale from 1 to 5")
        TEXT = "text", _("Free text")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=300)
    hint = models.CharField(_("hint"), max_length=300, blank=True)
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_("One choice per line (for “one choice from a list”)."),
    )
    low_label = models.CharField(
        _("label for 1"), max_length=60, blank=True, help_text=_("For a scale.")
    )
    high_label = models.CharField(
        _("label for 5"), max_length=60, blank=True, help_text=_("For a scale.")
    )
    required = models.BooleanField(_("an answer is needed"), default=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text

    def scale_label(self, n: int) -> str:
        """How a point of the scale is named: "1: Not at all", "3", "5: Very"."""
        if n == 1 and self.low_label:
            return f"1: {self.low_label}"
        if n == 5 and self.high_label:
            return f"5: {self.high_label}"
        return str(n)

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]


class Response(models.Model):
    """One person's answers to one survey. Kept, without the person, when they
    are erased, so totals stay right; free text is cleared then."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="survey_responses",
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "person"], name="one_response_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} ({self.submitted_at:%Y-%m-%d})"


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers"
    )
    # Exactly one of these holds the answer, by the question's kind.
    choice = models.CharField(max_length=200, blank=True)
    scale = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="one_answer_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"

    @property
    def value(self) -> str:
        if self.scale is not None:
            return str(self.scale)
        return self.choice or self.text
