from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.outbox import OutboxMessage


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
        PORTABILITY = "portability", _("Send my data to another organisation")

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
    def reference(self) -> str:
        """What the person and staff quote: "DR-2026-00042"."""
        return f"DR-{self.received_at:%Y}-{self.pk:05d}"

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
    Rows logged by the service itself (a provider's attendee list) name one
    `person`; a disclosure staff record names the `people` it concerned, or
    only a `report_reference` for an aggregated report that names no one.

    Append-only: after it is recorded only the withholding steps change it.
    A disclosure is withheld from the person (their export and "Your data")
    only once a second person approved it (`withheld_at`); until then the
    person sees it (see privacy/disclosures.py).
    """

    class RecipientKind(models.TextChoices):
        TRAINING_PROVIDER = "training_provider", _("Training provider of a course")
        LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement agency")
        COURT = "court", _("Court or tribunal")
        REGULATOR = "regulator", _("Regulator")
        GOVERNMENT = "government", _("Government authority")
        PROFESSIONAL_ADVISERS = "professional_advisers", _("Our professional advisers")
        HIGHER_EDUCATION = "higher_education", _("Higher education institution")
        COMMISSIONER = "commissioner", _("Commissioner (including NHS England)")
        FUNDER = "funder", _("Funding provider")
        PERSONS_REQUEST = (
            "persons_request",
            _("Another organisation, at the person's request"),
        )
        OTHER = "other", _("Other third party")

    class LawfulBasis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
        VITAL_INTERESTS = "vital_interests", _("Vital interests")
        PUBLIC_TASK = "public_task", _("Public task")
        LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests")

    class Exemption(models.TextChoices):
        CRIME = "crime", _("Prevention or detection of crime (DPA 2018 Sch. 2 para. 2)")
        LEGAL_PROCEEDINGS = (
            "legal_proceedings",
            _("Legal proceedings or legal advice (DPA 2018 Sch. 2 para. 5)"),
        )
        REGULATORY = "regulatory", _("Regulatory functions (DPA 2018 Sch. 2 para. 7)")
        SAFEGUARDING = "safeguarding", _("Serious harm to someone (DPA 2018 Sch. 3)")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="disclosures_concerning",
        verbose_name=_("people concerned"),
    )
    recipient = models.CharField(_("shared with"), max_length=200)
    recipient_kind = models.CharField(
        _("kind of recipient"),
        max_length=30,
        choices=RecipientKind.choices,
        default=RecipientKind.TRAINING_PROVIDER,
        db_default=RecipientKind.TRAINING_PROVIDER,
    )
    lawful_basis = models.CharField(
        _("lawful basis"),
        max_length=30,
        choices=LawfulBasis.choices,
        default=LawfulBasis.CONTRACT,
        db_default=LawfulBasis.CONTRACT,
    )
    fields = models.CharField(_("data shared"), max_length=300)
    purpose = models.CharField(_("purpose"), max_length=300)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    report_reference = models.CharField(
        _("report reference"),
        max_length=100,
        blank=True,
        db_default="",
        help_text=_("For an aggregated report that names no one."),
    )
    disclosed_at = models.DateTimeField(
        _("shared at"), auto_now_add=True, db_index=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # Withholding under an exemption: asked for by one person, in force only
    # once a second, different person approves.
    withhold_exemption = models.CharField(
        _("exemption"),
        max_length=30,
        choices=Exemption.choices,
        blank=True,
        db_default="",
    )
    withhold_reason = models.CharField(
        _("why it is withheld"), max_length=500, blank=True, db_default=""
    )
    withhold_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withholding asked for by"),
    )
    withhold_requested_at = models.DateTimeField(
        _("withholding awaiting a second approver since"), null=True, blank=True
    )
    withheld_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withholding approved by"),
    )
    withheld_at = models.DateTimeField(
        _("withheld from the person since"), null=True, blank=True
    )
    withhold_refusal_reason = models.CharField(
        _("why the last request to withhold it was rejected or cancelled"),
        max_length=500,
        blank=True,
        db_default="",
    )

    class Meta:
        ordering = ["-disclosed_at"]
        constraints = [
            # Withheld only with a stated exemption and a second person.
            models.CheckConstraint(
                condition=models.Q(withheld_at__isnull=True)
                | (~models.Q(withhold_exemption="") & ~models.Q(withhold_reason="")),
                name="disclosure_withheld_states_exemption",
            )
        ]

    def __str__(self) -> str:
        return f"{self.fields} to {self.recipient} ({self.disclosed_at:%Y-%m-%d})"

    @property
    def is_withheld(self) -> bool:
        return self.withheld_at is not None

    @property
    def awaiting_second_approver(self) -> bool:
        return self.withhold_requested_at is not None and self.withheld_at is None


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


class Transmission(models.Model):
    """A person's data sent straight to another organisation (portability).

    Asked for on "Your data" (with a portability request); sent by the
    data-protection lead as a link that works once and expires. Only a hash of
    the link's token is stored: the token is made when the mail is sent and
    exists only in that mail."""

    request = models.OneToOneField(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="transmission"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="transmissions",
    )
    recipient_name = models.CharField(_("organisation"), max_length=200)
    recipient_email = models.EmailField(_("organisation's email address"))
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    file = models.FileField(upload_to="transmissions/", blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("collected"), null=True, blank=True)
    disclosure = models.OneToOneField(
        Disclosure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transmission",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Data sent to {self.recipient_name} (request {self.request_id})"


class TransmissionMail(OutboxMessage):
    """The mail carrying a transmission's link (rules in config/outbox.py). Its
    body is built when it is sent, with a fresh token, so no usable link is
    ever stored."""

    transmission = models.ForeignKey(
        Transmission, on_delete=models.CASCADE, related_name="mails"
    )

    class Meta(OutboxMessage.Meta):
        pass
