from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Disclosure(models.Model):
    """What personal data was shared with whom, when and why.

    The privacy app records disclosures without importing the apps that make
    them: `reference` names the object ("booking:42") in the caller's terms.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    recipient = models.CharField(_("shared with"), max_length=200)
    fields = models.CharField(_("data shared"), max_length=300)
    purpose = models.CharField(_("purpose"), max_length=300)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    disclosed_at = models.DateTimeField(_("shared at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-disclosed_at"]

    def __str__(self) -> str:
        return f"{self.fields} to {self.recipient} ({self.disclosed_at:%Y-%m-%d})"
