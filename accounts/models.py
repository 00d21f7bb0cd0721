import threading

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.loaded import RemembersLoaded

PREFER_NOT_TO_SAY = "prefer_not_to_say"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person with an account. The email address is the login."""

    username = None
    email = models.EmailField(_("work email address"), unique=True)

    # Set by the privacy app: while restricted there is no marketing, profiling or
    # analytics; an objection to direct marketing stops all marketing at once.
    processing_restricted = models.BooleanField(
        _("processing restricted"), default=False
    )
    objects_to_direct_marketing = models.BooleanField(
        _("objects to direct marketing"), default=False
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    # Set while the account is closed (accounts.services.close_account): it
    # cannot sign in, nothing is sent to it, and staff may reopen it.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Where the record came from when it was imported rather than typed here.
    import_source = models.CharField(_("imported from"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    # Four eyes: deactivating a staff or superuser account is asked for by one
    # person and approved by another (see accounts.services.approve_deactivation).
    deactivation_requested_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deactivation asked for by"),
    )
    deactivation_requested_at = models.DateTimeField(
        _("deactivation asked for at"), null=True, blank=True
    )
    deactivation_refusal_reason = models.CharField(
        _("why the last deactivation request was rejected or cancelled"),
        max_length=500,
        blank=True,
    )
    # The newest privacy notice version this person has been told about.
    privacy_version_seen = models.PositiveIntegerField(
        null=True, blank=True, editable=False
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_privileged(self) -> bool:
        """A staff or superuser account: erasing or deactivating it needs a
        second person or a superuser."""
        return self.is_staff or self.is_superuser

    @property
    def deactivation_pending(self) -> bool:
        return self.deactivation_requested_at is not None


class AccountClosure(models.Model):
    """One closure of an account: asked for by the person (effective at once)
    or by the data-protection lead with a reason (effective after a notice
    period), and, perhaps, its reopening. The `*_mailed_at` fields make each
    mail go once, whatever retries happen."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="closures"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asked for by"),
    )
    by_staff = models.BooleanField(_("closed by our staff"), default=False)
    reason = models.CharField(_("reason given to the person"), max_length=500)
    asked_at = models.DateTimeField(_("asked for at"), auto_now_add=True)
    takes_effect_at = models.DateTimeField(_("takes effect at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(
        _("closure withdrawn at"), null=True, blank=True
    )
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reopened by"),
    )
    notice_mailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_mailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_mailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopened_mailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        constraints = [
            # The database, not only the service, refuses a second live closure.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(cancelled_at__isnull=True, reopened_at__isnull=True),
                name="one_live_closure_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Closure of {self.person_id} ({self.state})"

    @property
    def state(self) -> str:
        if self.reopened_at:
            return "reopened"
        if self.cancelled_at:
            return "withdrawn"
        if self.closed_at:
            return "closed"
        return "scheduled"


class OrganisationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """A bulk change of kind tells `signals.members_changed`, as saving
        one organisation does: reservations for a kind admit its members."""
        if "kind" not in kwargs:
            return super().update(**kwargs)
        before = dict(self.order_by().values_list("pk", "kind"))
        updated = super().update(**kwargs)
        _members_changed(before, was_kinds=set(before.values()))
        return updated

    update.alters_data = True


class Organisation(RemembersLoaded, models.Model):
    """A workplace: a school, a GP practice, a trust, a council service."""

    remembered = ("kind",)  # reservations for a kind admit its members

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School or academy")
        PRACTICE = "practice", _("GP practice")
        PCN = "pcn", _("Primary care network")
        TRUST = "trust", _("NHS trust")
        LOCAL_AUTHORITY = "local_authority", _("Local authority")
        CARE_HOME = "care_home", _("Care home or domiciliary care")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER
    )
    area = models.CharField(_("area"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Settings the organisation's own staff (or ours, in admin) choose.
    bookings_need_approval = models.BooleanField(
        _("members' bookings need an approver's agreement"), default=False
    )
    approval_hold_days = models.PositiveSmallIntegerField(
        _("days a place is held while awaiting approval"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    pays_on_account = models.BooleanField(
        _("paid places can be charged to the organisation's account"),
        default=False,
        help_text=_(
            "Only then is 'charge to my organisation' offered, and only to "
            "confirmed members."
        ),
    )
    purchase_order = models.CharField(
        _("purchase-order number for the year"),
        max_length=50,
        blank=True,
        help_text=_("Printed on invoices unless a booking gives its own."),
    )
    email_domain = models.CharField(
        _("email domain"),
        max_length=100,
        blank=True,
        help_text=_(
            "For example school.sch.uk: people signing up with an address at "
            "this domain are offered this organisation."
        ),
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organisation_name_unique_ci"),
            models.UniqueConstraint(
                Lower("email_domain"),
                condition=~models.Q(email_domain=""),
                name="organisation_email_domain_unique_ci",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        was = getattr(self, "_loaded_kind", None)
        if was is not None and was != self.kind:
            # Reservations for a kind of organisation admit its members.
            _members_changed({self.pk}, was_kinds={was})
        self.remember_loaded()


def _members_changed(organisations, was_kinds=()) -> None:
    from .signals import members_changed

    organisations = {pk for pk in organisations if pk is not None}
    if organisations:
        members_changed.send(
            sender=Membership, organisations=organisations, was_kinds=set(was_kinds)
        )


# Set while a queryset's delete sends one signal for all its rows, so that the
# `post_delete` receiver (for cascades) stays quiet for each of them.
_deleting_in_bulk = threading.local()
# Only these of a membership decide what a reservation counts (a confirmed
# membership of an organisation: courses.Reservation.admits).
_COUNTED = {"organisation", "organisation_id", "status", "person", "person_id"}


class MembershipQuerySet(models.QuerySet):
    """Writes of many memberships at once tell `signals.members_changed`
    about the organisations whose confirmed members changed, as saving or
    deleting one does (and `post_delete`, for cascades)."""

    def confirmed(self):
        return self.filter(status=Membership.Status.CONFIRMED)

    def with_role(self, role: str):
        return self.confirmed().filter(**{role: True})

    def update(self, **kwargs):
        if not _COUNTED & kwargs.keys():
            return super().update(**kwargs)  # roles and dates count nothing
        before = list(self.order_by().values_list("pk", "organisation_id", "status"))
        updated = super().update(**kwargs)
        # Read back: the new values may be expressions (bulk_update's CASE).
        after = Membership.objects.filter(pk__in=[pk for pk, _o, _s in before])
        confirmed = Membership.Status.CONFIRMED
        _members_changed(
            {org for _pk, org, status in before if status == confirmed}
            | set(after.confirmed().values_list("organisation_id", flat=True))
        )
        return updated

    update.alters_data = True

    def delete(self):
        organisations = set(
            self.confirmed().order_by().values_list("organisation_id", flat=True)
        )
        _deleting_in_bulk.on = True
        try:
            deleted = super().delete()
        finally:
            _deleting_in_bulk.on = False
        _members_changed(organisations)
        return deleted

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        _members_changed(
            {
                m.organisation_id
                for m in created
                if m.status == Membership.Status.CONFIRMED
            }
        )
        return created


def membership_deleted(sender, instance, **kwargs) -> None:
    """`post_delete` of one membership (deleted itself, or in a cascade from
    its person or organisation)."""
    if getattr(_deleting_in_bulk, "on", False):
        return
    # Read as loaded: a status not read (deferred) might have been confirmed,
    # and asking for it now would look for a row that is gone.
    if instance.__dict__.get("status", Membership.Status.CONFIRMED) == (
        Membership.Status.CONFIRMED
    ):
        _members_changed({instance.organisation_id})


class Membership(RemembersLoaded, models.Model):
    """A person's place in an organisation, and the roles they hold in it.

    A person asks to join (status requested); an approver of the organisation or
    our staff confirm it. Nothing is charged to the organisation for a person
    and no booker can see them until the membership is confirmed.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Asked to join")
        CONFIRMED = "confirmed", _("Confirmed")

    # The role flags, by the name used in code and on pages.
    ROLES = {
        "is_booker": _("Booker"),
        "is_approver": _("Approver"),
        "is_finance_contact": _("Finance contact"),
    }

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    is_booker = models.BooleanField(
        _("booker"), default=False, help_text=_("Books places for members.")
    )
    is_approver = models.BooleanField(
        _("approver"),
        default=False,
        help_text=_(
            "Confirms members, approves their bookings and supports their "
            "funding requests."
        ),
    )
    is_finance_contact = models.BooleanField(
        _("finance contact"),
        default=False,
        help_text=_("Sees the organisation's account and receives invoices."),
    )
    requested_at = models.DateTimeField(_("asked to join at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )

    objects = MembershipQuerySet.as_manager()
    # The organisation it was read with: a membership moved to another
    # changes both.
    remembered = ("organisation_id",)

    class Meta:
        ordering = ["organisation", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organisation"], name="one_membership_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.organisation}"

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        # Asking to join changes nothing a reservation counts; every other
        # write may (a status, an organisation, a person, or a copy read
        # before a bulk change): the organisation it was read with and the
        # one it is in are told.
        if not adding or self.confirmed:
            _members_changed(
                {self.organisation_id, getattr(self, "_loaded_organisation_id", None)}
            )
        self.remember_loaded()

    @property
    def confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED

    @property
    def holds_a_role(self) -> bool:
        return self.confirmed and any(getattr(self, role) for role in self.ROLES)

    def role_names(self) -> list[str]:
        return [str(label) for role, label in self.ROLES.items() if getattr(self, role)]


class Profile(models.Model):
    """What a person tells us about themselves, one per user.

    The equality-monitoring fields are optional, offer "prefer not to say", are
    shown only to the person and are reported only in aggregate: they never
    appear in admin list pages or search.
    """

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        SELF_DESCRIBED = "other", _("Another gender")
        PREFER_NOT = PREFER_NOT_TO_SAY, _("Prefer not to say")

    class Ethnicity(models.TextChoices):
        WHITE = "white", _("White")
        MIXED = "mixed", _("Mixed or multiple ethnic groups")
        ASIAN = "asian", _("Asian or Asian British")
        BLACK = "black", _("Black, Black British, Caribbean or African")
        OTHER = "other", _("Other ethnic group")
        PREFER_NOT = PREFER_NOT_TO_SAY, _("Prefer not to say")

    class Disability(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        PREFER_NOT = PREFER_NOT_TO_SAY, _("Prefer not to say")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiles",
        verbose_name=_("workplace"),
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone number"), max_length=30, blank=True)
    address_line_1 = models.CharField(_("address line 1"), max_length=120, blank=True)
    address_line_2 = models.CharField(_("address line 2"), max_length=120, blank=True)
    town = models.CharField(_("town or city"), max_length=80, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)

    gender = models.CharField(
        _("gender"), max_length=20, choices=Gender.choices, blank=True
    )
    year_of_birth = models.PositiveSmallIntegerField(
        _("year of birth"), null=True, blank=True
    )
    year_of_birth_withheld = models.BooleanField(
        _("prefer not to say year of birth"), default=False
    )
    ethnicity = models.CharField(
        _("ethnicity"), max_length=20, choices=Ethnicity.choices, blank=True
    )
    disability = models.CharField(
        _("disability"), max_length=20, choices=Disability.choices, blank=True
    )

    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def postal_address(self) -> str:
        parts = [self.address_line_1, self.address_line_2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)


class FormSubmission(models.Model):
    """A claimed form token (see `config.idempotency`): the first POST carrying
    it did the work; a second one is sent to the same result instead."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="form_submissions",
    )
    token = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    result_url = models.CharField(max_length=500, blank=True)
    # The messages the first response showed, shown again on a resubmission.
    messages = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # The database, not only the code, refuses a second claim.
            models.UniqueConstraint(
                fields=["user", "token"], name="one_claim_per_form_token"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path} by {self.user_id}"
