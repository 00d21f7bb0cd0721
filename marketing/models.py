from django.conf import settings
from django.db import models
from django.db.models import JSONField, Value
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from consent.models import Channel, Purpose


class Campaign(models.Model):
    """One message (or call or mailing list) to an audience, for one purpose on
    one channel. Who actually receives it is decided per person at the moment
    of sending; see `Delivery`."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        STOPPED = "stopped", _("Stopped")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone who may be contacted")
        CHOSEN = "chosen", _("People matching the choices below")

    PURPOSES = [
        (Purpose.MARKETING.value, Purpose.MARKETING.label),
        (Purpose.PARTNER_MARKETING.value, Purpose.PARTNER_MARKETING.label),
        (Purpose.SURVEYS.value, Purpose.SURVEYS.label),
    ]
    CHANNELS = [
        (c.value, c.label)
        for c in (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST)
    ]
    # Channels that we send ourselves; the others produce a list for staff.
    SENT_CHANNELS = (Channel.EMAIL, Channel.SMS)

    name = models.CharField(
        _("name"), max_length=200, help_text=_("For staff only; never shown.")
    )
    purpose = models.CharField(
        _("purpose"), max_length=30, choices=PURPOSES, default=Purpose.MARKETING
    )
    partner_name = models.CharField(
        _("partner"),
        max_length=200,
        blank=True,
        help_text=_(
            "For partner offers: the organisation we send on behalf of. "
            "It never receives anyone's details."
        ),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNELS)
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default="everyone"
    )
    topics = models.ManyToManyField(
        "courses.Topic",
        blank=True,
        related_name="+",
        verbose_name=_("booked courses on these topics"),
    )
    job_titles = models.TextField(
        _("job titles"), blank=True, help_text=_("One per line; any of them.")
    )
    organisation_kinds = models.JSONField(
        _("kinds of workplace"), default=list, blank=True
    )
    areas = models.TextField(
        _("areas"), blank=True, help_text=_("One per line; any of them.")
    )
    subject = models.CharField(
        _("subject"),
        max_length=200,
        blank=True,
        help_text=_("Email only. You can use {first_name}."),
    )
    body = models.TextField(
        _("message"),
        help_text=_(
            "You can use {first_name} and {recommended_course}. Put "
            "{recommended_course} on a line of its own: it is left out for people "
            "who have not agreed to offers chosen from their bookings. The "
            "unsubscribe link is added for you."
        ),
    )
    survey = models.ForeignKey(
        "surveys.Survey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("survey"),
        help_text=_(
            "For the “Surveys” purpose: the open survey to send. Its link is "
            "added to the email for you."
        ),
    )
    # The web addresses in the message when it started sending, in order: a
    # measured link `/m/<code>/<n>/` leads to links[n] and nowhere else.
    links = models.JSONField(
        default=list, db_default=Value([], JSONField()), blank=True, editable=False
    )
    send_at = models.DateTimeField(
        _("send at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to send as soon as you choose “Send”."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    recipients_queued = models.PositiveIntegerField(
        _("people queued"), null=True, blank=True, editable=False
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    list_exported_at = models.DateTimeField(null=True, blank=True, editable=False)
    list_exported_count = models.PositiveIntegerField(
        null=True, blank=True, editable=False
    )
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
        return self.name

    @property
    def is_sent_by_us(self) -> bool:
        return self.channel in self.SENT_CHANNELS

    @property
    def is_partner_offer(self) -> bool:
        return self.purpose == Purpose.PARTNER_MARKETING

    @property
    def organisation_kind_labels(self) -> list[str]:
        labels = dict(Organisation.Kind.choices)
        return [str(labels.get(k, k)) for k in self.organisation_kinds]

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]


class Delivery(models.Model):
    """One person's outcome for one campaign. The row is created before the
    message is sent and is unique per campaign and person, so no retry or
    duplicated task can ever send anyone a second message (at most once)."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending (interrupted if it stays)")
        SENT = "sent", _("Sent")
        SKIPPED_NO_CONSENT = "skipped_no_consent", _("Skipped: no consent")
        SKIPPED_RESTRICTED = "skipped_restricted", _("Skipped: restricted or objected")
        # A send failed; tried again with back-off until `retry_until`, each
        # time checking consent again (config.outbox's horizon).
        RETRYING = "retrying", _("Failed (will retry)")
        # Still failing at `retry_until`: kept and shown to staff.
        FAILED = "failed", _("Failed: not sent")
        # Due to be tried again when staff stopped the campaign.
        CANCELLED = "cancelled", _("Cancelled: campaign stopped")
        # A worker died between claiming the row and recording the outcome: the
        # message may or may not have gone. Never resent (at most once).
        INTERRUPTED = "interrupted", _("Interrupted: may not have been sent")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="marketing_deliveries",
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # While retrying: when to try next. While "sending": when it was claimed.
    retry_at = models.DateTimeField(null=True, blank=True)
    # Set at the first failure (queued + OUTBOX_RETRY_HORIZON_HOURS), or anew
    # when staff send it again.
    retry_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Measuring (privacy notice 1.7, "Measuring our offers"). The code is set
    # only for a person who had accepted analytics and not objected to
    # analytics or profiling when the message was sent; it is the only thing
    # in the measured links and the opening image, and it is random.
    track_code = models.CharField(max_length=40, null=True, blank=True, unique=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0, db_default=0)
    # The first open or click: bookings within CAMPAIGN_ATTRIBUTION_DAYS of it
    # count as the campaign's.
    engaged_at = models.DateTimeField(null=True, blank=True)
    # Withdrew consent with this message's unsubscribe link (counted for all).
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "person"], name="one_delivery_per_person"
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "status"], name="delivery_campaign_status"
            ),
            # The retry sweep and the failed count on the staff pages read
            # only these few rows of a table that grows with every campaign.
            models.Index(
                fields=["status", "retry_at"],
                condition=models.Q(status__in=["retrying", "failed"]),
                name="delivery_retrying_or_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} to {self.person_id}: {self.get_status_display()}"
