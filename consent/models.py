from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Offers and news from us")
    PARTNER_MARKETING = "partner_marketing", _("Offers from partner organisations")
    PROFILING = "profiling", _("Offers chosen from your bookings")
    ANALYTICS = "analytics", _("Analytics cookies")
    SURVEYS = "surveys", _("Surveys about training and the service")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    PHONE = "phone", _("Telephone")
    POST = "post", _("Post")
    WEB = "web", _("On this website")


# Which channels each purpose can use; the preferences page offers exactly these.
PURPOSE_CHANNELS: dict[str, tuple[str, ...]] = {
    Purpose.MARKETING: (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST),
    Purpose.PARTNER_MARKETING: (Channel.EMAIL, Channel.POST),
    Purpose.SURVEYS: (Channel.EMAIL,),
    Purpose.PROFILING: (Channel.WEB,),
    Purpose.ANALYTICS: (Channel.WEB,),
}
# What an objection to direct marketing stops (and withdraws). Surveys are
# included: an objection stops every message that is not about a booking.
MARKETING_PURPOSES = (
    Purpose.MARKETING,
    Purpose.PARTNER_MARKETING,
    Purpose.SURVEYS,
    Purpose.PROFILING,
)


class PolicyVersion(models.Model):
    """A published version of the privacy notice or the cookie policy."""

    class Kind(models.TextChoices):
        PRIVACY = "privacy", _("Privacy notice")
        COOKIES = "cookies", _("Cookie policy")

    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    version = models.CharField(_("version"), max_length=20)
    summary_of_changes = models.TextField(_("summary of changes"), blank=True)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Plain text. A line starting with '## ' is a heading, a line starting "
            "with '- ' a bullet point; a blank line starts a new paragraph."
        ),
    )
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Empty while a draft. Publish with the admin action."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version"], name="policy_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"


class ProcessingPurpose(models.Model):
    """One purpose for which we process personal data and its lawful basis.

    The privacy notice's table and the record of processing activities are both
    generated from these rows.
    """

    class LawfulBasis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
        LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests")
        PUBLIC_TASK = "public_task", _("Public task")

    name = models.CharField(_("purpose"), max_length=200)
    description = models.TextField(_("what we do"))
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=30, choices=LawfulBasis.choices
    )
    data_categories = models.CharField(_("data used"), max_length=300)
    recipients = models.CharField(_("shared with"), max_length=300, blank=True)
    retention = models.CharField(_("how long we keep it"), max_length=300)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ConsentRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError(
            "Consent records are append-only; record a new choice instead."
        )

    def delete(self):
        raise ValueError("Consent records are append-only; only erasure removes them.")


class ConsentRecord(models.Model):
    """One choice, as made: append-only. The current preference for a purpose and
    channel is the latest record. Only erasure (privacy) rewrites these rows."""

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Sign-up form")
        PREFERENCES = "preferences", _("Preferences page")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
        STAFF = "staff", _("Staff on your behalf")
        COOKIE_BANNER = "cookie_banner", _("Cookie choice")
        OBJECTION = "objection", _("Objection to processing")
        ERASURE = "erasure", _("Erasure")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="consent_records",
    )
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(max_length=500, blank=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(
                fields=["person", "purpose", "channel", "-recorded_at"],
                name="consent_latest_lookup",
            )
        ]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrawn"
        return f"{self.get_purpose_display()} by {self.get_channel_display()} {verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(
                "Consent records are append-only; record a new choice instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Consent records are append-only; only erasure removes them.")


class ContactPoint(models.Model):
    """How people reach a team (the contact page, `/contact/`). A team with no
    row is shown with the settings' fallback (CONTACT_EMAIL, CONTACT_PHONE,
    CONTACT_ADDRESS), so the page is never empty."""

    class Team(models.TextChoices):
        BOOKING = "booking", _("Booking team")
        FUNDING = "funding", _("Funding team")
        DATA_PROTECTION = "data_protection", _("Data protection lead")

    team = models.CharField(_("team"), max_length=20, choices=Team.choices, unique=True)
    email = models.EmailField(_("email address"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("postal address"), blank=True)
    hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("For example: Monday to Friday, 9am to 5pm."),
    )
    note = models.CharField(
        _("what to contact them about"),
        max_length=300,
        blank=True,
        help_text=_("Shown under the team's name. Leave empty for the usual text."),
    )

    class Meta:
        ordering = ["team"]

    def __str__(self) -> str:
        return self.get_team_display()
