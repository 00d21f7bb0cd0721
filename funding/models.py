import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.outbox import OutboxMessage


def _private_path(instance, filename: str) -> str:
    # A random name: the original is kept in `original_name`, never in the path.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"funding/{instance.__class__.__name__.lower()}/{uuid.uuid4().hex}.{ext}"


class FundingStream(models.Model):
    """A pot of money with its rules: who is eligible and how much each person
    may have in a financial year (April to March)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    eligible_job_roles = models.TextField(
        _("eligible job roles"),
        blank=True,
        help_text=_(
            "One per line, for example 'Practice nurse'. A job title containing any "
            "of them is eligible. Leave empty for any role."
        ),
    )
    eligible_workplace_kinds = models.JSONField(
        _("eligible workplace kinds"),
        default=list,
        blank=True,
        help_text=_('Organisation kinds, for example ["practice", "pcn"]. '),
    )
    annual_allowance = models.DecimalField(
        _("allowance per person per year (£)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("333.00"),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def job_roles(self) -> list[str]:
        return [r.strip() for r in self.eligible_job_roles.splitlines() if r.strip()]


class FundingRound(models.Model):
    stream = models.ForeignKey(
        FundingStream, on_delete=models.PROTECT, related_name="rounds"
    )
    name = models.CharField(_("name"), max_length=200)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    panel_date = models.DateField(_("panel date"), null=True, blank=True)

    class Meta:
        ordering = ["-closes_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="funding_round_closes_after_it_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stream.name}: {self.name}"


class Lifecycle(models.Model):
    """What a funding request and an application share: a status the learner
    edits in some states and officers decide on, who decided and when, and
    the colour each status is shown in. The statuses and their moves are each
    model's own; the moves themselves go through `services.common`."""

    # The learner may edit only in these states.
    EDITABLE: tuple[str, ...] = ("draft",)
    # GOV.UK tag colour of each status.
    STATUS_TAGS: dict[str, str] = {}

    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def status_tag(self) -> str:
        return self.STATUS_TAGS.get(self.status, "grey")


class FundingRequest(Lifecycle):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_MANAGER = "awaiting_manager", _("Waiting for manager's support")
        NOT_SUPPORTED = "not_supported", _("Manager did not support")
        UNDER_REVIEW = "under_review", _("Being reviewed")
        MORE_INFO = "more_info", _("More information needed")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Closed")
        # The learner took back a request before a decision.
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # The learner may edit the request only in these states.
    EDITABLE = ("draft", "more_info")
    # Submitted and waiting for a decision.
    PENDING = ("awaiting_manager", "not_supported", "under_review")
    # Money is committed: counts against the person's allowance.
    COMMITTED = ("awaiting_manager", "not_supported", "under_review", "approved")
    # Submitted and not decided: the learner may withdraw it.
    WITHDRAWABLE = ("awaiting_manager", "not_supported", "under_review", "more_info")
    STATUS_TAGS = {
        "draft": "grey",
        "awaiting_manager": "yellow",
        "not_supported": "orange",
        "under_review": "blue",
        "more_info": "orange",
        "approved": "green",
        "declined": "red",
        "closed": "grey",
        "withdrawn": "grey",
    }

    # On erasure the row stays, against the anonymised account, with its
    # amounts, dates and status; what the person wrote is cleared.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="funding_requests",
    )
    round = models.ForeignKey(
        FundingRound,
        on_delete=models.PROTECT,
        related_name="requests",
        null=True,
        blank=True,
        verbose_name=_("funding round"),
    )
    course_name = models.CharField(_("course name"), max_length=200)
    provider = models.ForeignKey(
        "courses.Provider",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="funding_requests",
        verbose_name=_("course provider"),
    )
    provider_name = models.CharField(_("course provider"), max_length=200, blank=True)
    cost = models.DecimalField(
        _("cost (£)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    reason = models.TextField(_("how the course helps your role"), blank=True)
    manager_name = models.CharField(_("manager's name"), max_length=200, blank=True)
    manager_email = models.EmailField(_("manager's work email"), blank=True)
    # The learner has said their supporting documents are complete (documents
    # are optional, so "none" is an answer too): the task list's status.
    documents_confirmed = models.BooleanField(
        _("documents confirmed"), default=False, db_default=False
    )
    # The workplace when submitted, so reports do not move when people do.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="funding_requests",
        verbose_name=_("workplace"),
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    amount_approved = models.DecimalField(
        _("amount approved (£)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
    )
    decision_note = models.TextField(
        _("conditions or reason"),
        blank=True,
        help_text=_("Shown to the learner: conditions of approval, or why declined."),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The officers' queue: submitted requests, newest first, a page
            # at a time (funding.selectors.funding_requests_for_officers).
            models.Index(
                fields=["-submitted_at", "-id"],
                name="funding_request_queue",
                condition=~Q(status="draft"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gt=0),
                name="funding_request_cost_positive",
            ),
            models.CheckConstraint(
                condition=Q(amount_approved__isnull=True) | Q(amount_approved__gt=0),
                name="funding_request_amount_approved_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("funding:detail", args=[self.pk])

    @property
    def provider_display(self) -> str:
        return self.provider.name if self.provider_id else self.provider_name

    @property
    def is_withdrawable(self) -> bool:
        return self.status in self.WITHDRAWABLE

    @property
    def is_deletable(self) -> bool:
        return self.status == self.Status.DRAFT


class ApplicationType(models.Model):
    """A kind of application learners can make on the website (an
    apprenticeship, a fellowship, a placement...), added by staff in admin:
    what the pages ask and whether it takes new applications."""

    name = models.CharField(
        _("name"),
        max_length=200,
        unique=True,
        help_text=_("As learners see it, for example 'Apprenticeship'."),
    )
    slug = models.SlugField(
        _("address"),
        max_length=50,
        unique=True,
        help_text=_("The last part of the page address, for example 'apprenticeship'."),
    )
    summary = models.CharField(
        _("summary"),
        max_length=300,
        blank=True,
        help_text=_("One sentence shown in the list of applications."),
    )
    guidance = models.TextField(
        _("guidance"),
        blank=True,
        help_text=_("Shown above the form: who can apply and what happens next."),
    )
    subject_label = models.CharField(
        _("question: what they apply for"),
        max_length=200,
        default="What are you applying for?",
    )
    subject_hint = models.CharField(
        _("hint for that question"), max_length=300, blank=True
    )
    statement_label = models.CharField(
        _("question: their statement"),
        max_length=200,
        default="Personal statement",
    )
    statement_hint = models.CharField(
        _("hint for the statement"),
        max_length=300,
        blank=True,
        help_text=_("For example 'Why you want to do it and how it fits your role.'"),
    )
    needs_manager = models.BooleanField(
        _("ask for the manager's details"), default=True
    )
    is_open = models.BooleanField(
        _("open for applications"),
        default=True,
        help_text=_(
            "When closed, nobody can start or submit an application; those "
            "submitted are still decided."
        ),
    )
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Lower numbers are listed first.")
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("funding:application_new", args=[self.slug])


class Application(Lifecycle):
    """An application of any `ApplicationType`. It was the apprenticeship
    application: its table keeps that name, so the release before this one
    could read and write it during an upgrade."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Being reviewed")
        OFFERED = "offered", _("Offered a place")
        DECLINED = "declined", _("Declined")

    STATUS_TAGS = {
        "draft": "grey",
        "submitted": "yellow",
        "under_review": "blue",
        "offered": "green",
        "declined": "red",
    }

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # Null only for rows the previous release wrote during the upgrade (all
    # apprenticeships); every application this code makes has a type.
    type = models.ForeignKey(
        ApplicationType,
        on_delete=models.PROTECT,
        related_name="applications",
        null=True,
        blank=True,
        verbose_name=_("type"),
    )
    programme = models.CharField(_("what they apply for"), max_length=200)
    employer_name = models.CharField(_("employer or workplace"), max_length=200)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("workplace"),
    )
    manager_name = models.CharField(_("manager's name"), max_length=200, blank=True)
    manager_email = models.EmailField(_("manager's work email"), blank=True)
    statement = models.TextField(_("statement"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    decision_note = models.TextField(_("note to the applicant"), blank=True)

    class Meta:
        db_table = "funding_apprenticeshipapplication"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The officers' queue, newest first, a page at a time.
            models.Index(
                fields=["-submitted_at", "-id"],
                name="application_queue",
                condition=~Q(status="draft"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("funding:application_detail", args=[self.pk])

    @property
    def type_name(self) -> str:
        return self.type.name if self.type_id else str(_("Apprenticeship"))


class FundingEvent(models.Model):
    """One change of state (or a notable step) of a request or an application:
    who, when, from, to, note. Append-only; the learner's timeline."""

    request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who acted when there is no account: "Your manager", "System".
    actor_label = models.CharField(max_length=200, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(request__isnull=False, application__isnull=True)
                | Q(request__isnull=True, application__isnull=False),
                name="funding_event_belongs_to_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.from_status} → {self.to_status}"

    def _label(self, value: str) -> str:
        model = FundingRequest if self.request_id else Application
        return dict(model.Status.choices).get(value, value)

    @property
    def from_label(self) -> str:
        return self._label(self.from_status) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)

    @property
    def changes_state(self) -> bool:
        return self.from_status != self.to_status


class ManagerSupport(models.Model):
    """A one-time link sent to the learner's manager, and their answer.

    Only a hash of the token is stored; the token itself is only in the mail."""

    request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="support_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    manager_name = models.CharField(max_length=200, blank=True)
    manager_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When the manager was reminded (FUNDING_MANAGER_REMINDER_DAYS after this
    # link was sent without an answer); set by a conditional update, so once.
    reminded_at = models.DateTimeField(null=True, blank=True)
    supported = models.BooleanField(null=True)
    statement = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Support link for request {self.request_id} to {self.manager_email}"


class FundingDocument(models.Model):
    class Kind(models.TextChoices):
        SUPPORTING = "supporting", _("Supporting document")
        MANAGER_LETTER = "manager_letter", _("Manager's letter")

    request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=_private_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Invoice(models.Model):
    request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, related_name="invoices"
    )
    supplier = models.CharField(_("supplier"), max_length=200)
    number = models.CharField(_("invoice number"), max_length=100)
    amount = models.DecimalField(_("amount (£)"), max_digits=10, decimal_places=2)
    invoice_date = models.DateField(_("invoice date"))
    file = models.FileField(
        _("invoice (PDF)"), upload_to=_private_path, max_length=300, blank=True
    )
    original_name = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "number"], name="funding_invoice_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_invoice_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.number} £{self.amount}"


class Payment(models.Model):
    request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, related_name="payments"
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    amount = models.DecimalField(_("amount (£)"), max_digits=10, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"£{self.amount} on {self.paid_on}"


class ProgressUpdate(models.Model):
    """What the learner reports about the course, as funders require."""

    class Stage(models.TextChoices):
        STARTED = "started", _("Started")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="progress_updates"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} ({self.recorded_at:%Y-%m-%d})"


class FundingMail(OutboxMessage):
    """The funding outbox (rules in config/outbox.py): one row per mail, keyed so
    it is sent once. Subject and body are rendered when queued (a manager's link
    exists only here)."""

    request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        related_name="mails",
        null=True,
        blank=True,
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="mails",
        null=True,
        blank=True,
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()

    class Meta(OutboxMessage.Meta):
        pass
