from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataSubjectRequest(models.Model):
    """A request from a person about their data, and its handling."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (a copy of my data)")
        ERASURE = "erasure", _("Erasure")
        RESTRICTION = "restriction", _("Restriction of processing")
        OBJECT_MARKETING = "object_marketing", _("Objection to direct marketing")
        OBJECT_PROFILING = "object_profiling", _("Objection to profiling")
        OBJECT_ANALYTICS = "object_analytics", _("Objection to analytics")
        RECTIFICATION = "rectification", _("Correction")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")

    class Channel(models.TextChoices):
        WEB = "web", _("My data page")
        EMAIL = "email", _("Email")
        POST = "post", _("Post")
        PHONE = "phone", _("Phone")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="data_requests",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(
        _("received by"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), editable=False)
    extension_months = models.PositiveSmallIntegerField(
        _("extended by (months)"), default=0, choices=[(0, "0"), (1, "1"), (2, "2")]
    )
    extension_reason = models.CharField(
        _("reason for the extension"), max_length=500, blank=True
    )
    identity_verified = models.BooleanField(_("identity verified"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    details = models.TextField(_("details"), blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Four eyes: erasing a staff or superuser account is asked for by one person
    # and done only when a second, different person approves
    # (services.request_erasure_approval, approve_erasure, reject_erasure).
    approval_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erasure asked for by"),
    )
    approval_requested_at = models.DateTimeField(
        _("awaiting a second approver since"), null=True, blank=True
    )
    approval_refusal_reason = models.CharField(
        _("why the last request for a second approver was rejected or cancelled"),
        max_length=500,
        blank=True,
    )

    class Meta:
        ordering = ["due_at"]
        permissions = [
            ("export_personal_data", "Can export a person's data"),
            ("erase_personal_data", "Can erase a person's data"),
            ("restrict_processing", "Can restrict or lift restriction of processing"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extension_months__lte=2),
                name="dsr_extension_at_most_two",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args, **kwargs):
        # One calendar month, extendable by up to two further months.
        self.due_at = self.received_at + relativedelta(months=1 + self.extension_months)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.RECEIVED, self.Status.IN_PROGRESS)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and timezone.now() > self.due_at

    @property
    def awaiting_second_approver(self) -> bool:
        return self.is_open and self.approval_requested_at is not None


class AuditEvent(models.Model):
    """Who did what to whose data, when, under which request. It never stores
    the personal data itself: the subject is named by id only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=50, db_index=True)
    subject = models.CharField(max_length=50, help_text=_("e.g. user:42"))
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    detail = models.CharField(max_length=300, blank=True)
    # Only for a correction (privacy.services.correct_personal_data): the value
    # before and after. This is the one place the old value is kept; erasure
    # and the retention rule clear both.
    old_value = models.TextField(blank=True, default="", db_default="")
    new_value = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.subject}"

    def save(self, *args, **kwargs):
        # Erasure and retention clear old_value/new_value with update(), the
        # only change an audit event may ever see.
        if self.pk is not None:
            raise ValueError("Audit events cannot be changed.")
        super().save(*args, **kwargs)


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
    disclosed_at = models.DateTimeField(
        _("shared at"), auto_now_add=True, db_index=True
    )

    class Meta:
        ordering = ["-disclosed_at"]

    def __str__(self) -> str:
        return f"{self.fields} to {self.recipient} ({self.disclosed_at:%Y-%m-%d})"


class ExportFile(models.Model):
    """A prepared export, downloadable by its owner (signed in) until it expires."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    token = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="exports/")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Export {self.pk}"


class RetentionRun(models.Model):
    """What a retention run removed: counts, never contents."""

    category = models.CharField(max_length=100)
    removed = models.PositiveIntegerField()
    ran_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.category}: {self.removed}"
