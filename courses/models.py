import datetime as dt
from collections.abc import Collection
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from config.loaded import RemembersLoaded


class Provider(models.Model):
    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        PARTNER = "partner", _("Partner")
        THIRD_PARTY = "third_party", _("Third party")
        HIGHER_EDUCATION = "higher_education", _("Higher education")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    shares_attendee_details = models.BooleanField(
        _("shares attendee details"),
        default=False,
        help_text=_("Attendees' name and work email are shared with this provider."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        LIVE_ONLINE = "live_online", _("Live online webinar")
        E_LEARNING = "e_learning", _("E-learning")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="courses",
        verbose_name=_("provider"),
    )
    topics = models.ManyToManyField(
        Topic, related_name="courses", blank=True, verbose_name=_("topics")
    )
    cpd_hours = models.DecimalField(
        _("CPD hours"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    price = models.DecimalField(
        _("price (£)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    mode = models.CharField(_("delivery mode"), max_length=20, choices=Mode.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        db_index=True,
    )
    cancellation_deadline_hours = models.PositiveIntegerField(
        _("cancellation deadline (hours before the start)"),
        default=48,
        help_text=_(
            "Learners can cancel up to this many hours before a session starts; "
            "a paid place cancelled in time is refunded in full."
        ),
    )
    release_unpaid_after_days = models.PositiveSmallIntegerField(
        _("release unpaid places after (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Leave empty to keep unpaid places. Otherwise a place its learner has "
            "not paid for this many days after booking is cancelled, its charge "
            "reversed and the place offered to the waiting list."
        ),
    )

    class WaitlistMode(models.TextChoices):
        AUTOMATIC = (
            "automatic",
            _("Give the place straight to the first person waiting"),
        )
        OFFER = "offer", _("Offer the place; they must accept within a set time")

    waitlist_mode = models.CharField(
        _("when a place frees up"),
        max_length=20,
        choices=WaitlistMode.choices,
        default=WaitlistMode.AUTOMATIC,
    )
    offer_hours = models.PositiveIntegerField(
        _("hours to accept an offered place"), default=24
    )
    minimum_notice_days = models.PositiveIntegerField(
        _("check minimum numbers this many days before"),
        default=7,
        help_text=_(
            "Staff are alerted if a session has fewer bookings than its minimum."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Maintained by courses.services.reindex_courses (PostgreSQL only); GIN-indexed.
    search_vector = SearchVectorField(null=True, editable=False)
    # The start of the course's first scheduled session still to come, kept
    # by PostgreSQL triggers on courses_session (migration 0009) whenever a
    # session is added, moved, cancelled or deleted; once that session has
    # started, courses.services.refresh_next_sessions moves it on. The
    # catalogue sorts and filters on it instead of joining every match's
    # sessions. Never written by Django (see save).
    next_session_at = models.DateTimeField(null=True, editable=False)
    # What the catalogue filters on besides words and dates, as lexemes
    # ("t<topic id>", "p<provider id>", "m<mode>", "free"), kept by PostgreSQL
    # triggers on this table and its topics (migration 0011). Indexed with
    # search_vector in one GIN index, so a search with filters is one index
    # lookup that reads only the courses matching all of them. Never written
    # by Django (see save); empty on the embedded SQLite default.
    facets = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title"]
        indexes = [
            # The catalogue by date (and any search's "has a session still to
            # come") reads one page of these, not every course's sessions; the
            # count of a filtered catalogue reads only this index.
            models.Index(
                fields=["next_session_at", "id"],
                include=["provider", "mode", "price"],
                condition=Q(status="published"),
                name="course_published_next",
            ),
            # The catalogue sorted by title reads one page of these, not all.
            models.Index(
                fields=["title", "id"],
                condition=Q(status="published"),
                name="course_published_title",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="course_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(cpd_hours__gte=0), name="course_hours_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # Written only by the database's triggers (see save).
    KEPT_BY_DATABASE = ("next_session_at", "facets")

    def save(self, *args, update_fields=None, **kwargs) -> None:
        """Save everything but `next_session_at` and `facets`, which the
        database keeps: a copy loaded before a session or a topic changed
        must not write back the old value. A new course has no sessions yet.
        As Django does, a course loaded with deferred fields saves only the
        fields it loaded. (One
        whose row was deleted meanwhile is not inserted again: Django says
        the save affected no rows.)"""
        existing = not self._state.adding or (
            self.pk is not None and Course.objects.filter(pk=self.pk).exists()
        )
        if self.pk is None or not existing:
            self.next_session_at = None
        else:
            if update_fields is None:
                deferred = self.get_deferred_fields()
                update_fields = [
                    f.name
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.attname not in deferred
                ]
            update_fields = [f for f in update_fields if f not in self.KEPT_BY_DATABASE]
        super().save(*args, update_fields=update_fields, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courses:detail", kwargs={"slug": self.slug})

    @property
    def is_free(self) -> bool:
        return self.price == 0

    @property
    def is_third_party(self) -> bool:
        return (
            self.provider.kind == Provider.Kind.THIRD_PARTY
            or self.provider.shares_attendee_details
        )


def lock_course(*course_ids: int | None) -> None:
    """Lock the courses' rows (in id order) for the rest of the transaction,
    as PostgreSQL's next-session trigger does (FOR NO KEY UPDATE: new
    sessions and bookings referring to them are not held up). Take it before
    locking any of their sessions. Nothing on SQLite, which has no row locks."""
    ids = sorted({i for i in course_ids if i is not None})
    if ids:
        list(
            Course.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


class InstantsField(models.Field):
    """Moments in order, as PostgreSQL's `timestamptz[]`: the first one after
    a moment `m` is `value[width_bucket(m, value) + 1]`, a binary search in
    the row itself (`width_bucket` counts the elements at or before `m` in a
    sorted array). Only the database writes it (`CourseSearch.session_starts`).
    Elsewhere (the embedded SQLite default) a text column that stays empty."""

    def db_type(self, connection) -> str:
        return "timestamptz[]" if connection.vendor == "postgresql" else "text"


class CourseSearch(models.Model):
    """What a catalogue search reads of each published course, in a table of
    its own: the next session's start, the search vector, the facets and
    the title.

    A search reads every course that matches its words to rank them or to
    count them (a broad word matches one course in six), and the rows of
    `courses_course` are wide (titles, summaries, descriptions): at 50,000
    courses a broad word's matches lay on 3,845 of its pages. This table is
    a quarter of that width, so the same matches are read from far fewer
    pages (about half the time, docs/performance.md), and the page's own
    rows are then read from `courses_course` by id.

    On PostgreSQL a trigger on `courses_course` (migrations 0012, 0013) keeps one
    row per published course, whoever writes: a course published, changed,
    unpublished or deleted, its next session moved by the session triggers,
    its facets by the topic triggers, its vector by `reindex_courses`.
    Never written by Django. On the embedded SQLite default it stays empty
    and the catalogue reads the courses."""

    course = models.OneToOneField(
        Course,
        primary_key=True,
        # The trigger deletes the row with the course: nothing for Django's
        # collector to do.
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    next_session_at = models.DateTimeField(null=True)
    # The starts of the course's scheduled sessions still to come, in order
    # (migration 0017), kept by the trigger function that keeps
    # next_session_at: within dates, a match's first session in range is
    # found in it, in the row, without looking up its sessions.
    session_starts = InstantsField(null=True, editable=False)
    search_vector = SearchVectorField(null=True)
    facets = SearchVectorField(null=True)
    # Copied (migration 0013) so that a search sorted by title sorts its
    # matches here too. The database's default lets a writer that does not
    # know the column (an older release's bulk load) still insert.
    title = models.CharField(max_length=200, db_default="")

    class Meta:
        indexes = [
            # A count or a search sorted by date with few matches walks it;
            # a facet filter is checked in it too, without reading the row
            # (migration 0014). Not the search vector: a long description's
            # would not fit a btree entry.
            models.Index(
                fields=["next_session_at", "course"],
                name="coursesearch_next",
                include=["facets"],
            ),
            models.Index(
                fields=["title", "course"],
                name="coursesearch_title",
                include=["next_session_at", "facets"],
            ),
        ]

    def __str__(self) -> str:
        return f"search row of course {self.course_id}"

    def save(self, *args, **kwargs) -> None:
        raise TypeError("the trigger on courses_course keeps CourseSearch")


class SessionQuerySet(models.QuerySet):
    """Writes in bulk take the sessions' courses first, as `Session.save`
    does, so no way of writing sessions can hold a session while it waits
    for the course (the order the next-session trigger needs)."""

    def _lock_courses(self, also: int | None = None) -> None:
        lock_course(also, *self.values_list("course_id", flat=True).distinct())

    def delete(self):
        with transaction.atomic(savepoint=False):
            self._lock_courses()
            return super().delete()

    def update(self, **kwargs):
        if not Session.NEXT_SESSION_FIELDS & kwargs.keys():
            return super().update(**kwargs)
        moved_to = kwargs.get("course_id", getattr(kwargs.get("course"), "pk", None))
        with transaction.atomic(savepoint=False):
            self._lock_courses(also=moved_to)
            return super().update(**kwargs)


class Session(RemembersLoaded, models.Model):
    """One dated occurrence of a course."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(
        _("places"), validators=[MinValueValidator(1)]
    )
    booking_closes_at = models.DateTimeField(
        _("booking closes at"),
        null=True,
        blank=True,
        help_text=_("Leave blank to close booking when the session starts."),
    )
    venue = models.CharField(_("venue"), max_length=300, blank=True)
    # Shown to learners on the course page, the check page and their booking,
    # each only when staff entered it.
    venue_address = models.TextField(
        _("venue address"),
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "The full postal address, with the postcode: a map link is made from it."
        ),
    )
    accessibility_notes = models.TextField(
        _("accessibility"),
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "For example: step-free entrance, hearing loop, accessible toilet."
        ),
    )
    parking_notes = models.TextField(
        _("parking and travel"),
        blank=True,
        default="",
        db_default="",
    )
    joining_url = models.URLField(
        _("joining link"),
        blank=True,
        help_text=_("For online sessions; shown only to confirmed attendees."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED
    )
    minimum_attendees = models.PositiveIntegerField(
        _("minimum numbers"),
        default=0,
        help_text=_("0 for no minimum."),
    )
    minimum_waived_at = models.DateTimeField(
        _("confirmed to run below minimum at"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = SessionQuerySet.as_manager()
    # The course it was read with: a session moved to another changes (and
    # locks) both courses.
    remembered = ("course_id",)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["course", "starts_at"], name="session_course_start"),
            # The catalogue walks scheduled sessions in date order and checks,
            # per course, that no earlier one is in range (selectors).
            models.Index(
                fields=["starts_at", "id"],
                condition=Q(status="scheduled"),
                name="session_scheduled_start",
            ),
            models.Index(
                fields=["course", "starts_at", "id"],
                condition=Q(status="scheduled"),
                name="session_scheduled_course",
            ),
            # A catalogue list by date with dates given is in (start, course)
            # order: walking this, PostgreSQL stops after a page, however
            # many sessions start at the same moment.
            models.Index(
                fields=["starts_at", "course"],
                condition=Q(status="scheduled"),
                name="session_scheduled_start_course",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="session_has_places"
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.course.title}, {local:%-d %b %Y %H:%M}"

    # A change to these moves the course's next session: PostgreSQL's trigger
    # (migration 0009) then locks the course row.
    NEXT_SESSION_FIELDS = frozenset({"starts_at", "status", "course", "course_id"})

    def save(self, *args, update_fields=None, **kwargs) -> None:
        """Save, with the course row locked first whenever the write may move
        the course's next session (a new session, or its start, status or
        course changed or possibly changed).

        The trigger locks the course after this row. Without the lock taken
        here first, a staff member saving two sessions of a course (say, the
        course page's sessions) and another changing a third would each hold
        a session and wait for the other's: "deadlock detected", an error
        page for one of them. Every writer taking the course first (and
        `bookings.services.cancel_session` does the same) makes the second
        wait before it holds anything."""
        if update_fields is None or self.NEXT_SESSION_FIELDS & set(update_fields):
            with transaction.atomic(savepoint=False):
                # A session moved to another course changes both courses'
                # next session: the one it was loaded with is locked too.
                lock_course(self.course_id, getattr(self, "_loaded_course_id", None))
                super().save(*args, update_fields=update_fields, **kwargs)
            self.remember_loaded()
        else:
            super().save(*args, update_fields=update_fields, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            lock_course(self.course_id, getattr(self, "_loaded_course_id", None))
            return super().delete(*args, **kwargs)

    @property
    def closes_at(self):
        return self.booking_closes_at or self.starts_at

    @property
    def is_open_for_booking(self) -> bool:
        return (
            self.status == self.Status.SCHEDULED
            and self.course.status == Course.Status.PUBLISHED
            and timezone.now() < self.closes_at
        )

    @property
    def map_url(self) -> str:
        """A map search for the venue's address (no API key, no tracking)."""
        from urllib.parse import quote_plus

        if not self.venue_address.strip():
            return ""
        return "https://www.openstreetmap.org/search?query=" + quote_plus(
            " ".join(self.venue_address.split())
        )

    @property
    def is_online(self) -> bool:
        return self.course.mode != Course.Mode.IN_PERSON


def _day(moment: dt.datetime) -> str:
    """'1 March', with the year when it is not this year."""
    if moment.year == timezone.localdate().year:
        return f"{moment:%-d %B}"
    return f"{moment:%-d %B %Y}"


class Reservation(models.Model):
    """Places on a session ring-fenced for one organisation's confirmed members,
    or for members of any organisation of one kind, until a moment.

    Until then only those members may take them (bookings.services enforces it
    under the session lock); after it they return to general sale and the
    periodic sweep gives them to the waiting list, once (`released_at`).
    """

    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        related_name="reservations",
        verbose_name=_("session"),
    )
    places = models.PositiveIntegerField(
        _("places reserved"), validators=[MinValueValidator(1)]
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("for members of"),
    )
    organisation_kind = models.CharField(
        _("or for members of any organisation of this kind"),
        max_length=20,
        choices=Organisation.Kind.choices,
        blank=True,
    )
    until = models.DateTimeField(
        _("reserved until"),
        help_text=_(
            "After this the places return to general sale and the waiting list "
            "is offered them. To end a reservation early, set this to now."
        ),
    )
    released_at = models.DateTimeField(
        _("returned to general sale at"), null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("reserved by"),
    )
    created_at = models.DateTimeField(_("reserved at"), auto_now_add=True)

    class Meta:
        ordering = ["until", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(places__gte=1), name="reservation_has_places"
            ),
            # For one organisation or for one kind of organisation, never both.
            models.CheckConstraint(
                condition=(
                    Q(organisation__isnull=False, organisation_kind="")
                    | (Q(organisation__isnull=True) & ~Q(organisation_kind=""))
                ),
                name="reservation_for_organisation_or_kind",
                violation_error_message=_(
                    "Choose the organisation or the kind of organisation the "
                    "places are reserved for: one of them, not both."
                ),
            ),
        ]

    def __str__(self) -> str:
        return _("%(places)s places for %(whom)s") % {
            "places": self.places,
            "whom": self.for_whom,
        }

    @property
    def for_whom(self) -> str:
        """'members of Westmoor Primary', 'members of any GP practice'."""
        if self.organisation_id is not None:
            return _("members of %(org)s") % {"org": self.organisation}
        label = str(Organisation.Kind(self.organisation_kind).label)
        # "School or academy" reads "any school or academy"; "NHS trust" stays.
        if not label[:2].isupper():
            label = label[0].lower() + label[1:]
        return _("members of any %(kind)s") % {"kind": label}

    @property
    def until_text(self) -> str:
        """'5pm on 1 March', '9:30am on 2 March 2031'; a reservation until
        midnight reads 'the end of 28 February'."""
        local = timezone.localtime(self.until)
        if (local.hour, local.minute) == (0, 0):
            day = local - dt.timedelta(days=1)
            return _("the end of %(day)s") % {"day": _day(day)}
        minutes = f":{local:%M}" if local.minute else ""
        clock = f"{local:%-I}{minutes}{local:%p}".lower()
        return _("%(clock)s on %(day)s") % {"clock": clock, "day": _day(local)}

    def describe_until(self) -> str:
        return _("%(whom)s until %(until)s") % {
            "whom": self.for_whom,
            "until": self.until_text,
        }

    def is_active(self, now: dt.datetime) -> bool:
        return now < self.until

    def admits(self, memberships: Collection[tuple[int, str]]) -> bool:
        """Whether someone with these confirmed memberships, as (organisation
        id, organisation kind) pairs, may take the reserved places."""
        return any(
            org_id == self.organisation_id or kind == self.organisation_kind
            for org_id, kind in memberships
        )

    def clean(self) -> None:
        if self.organisation_kind == Organisation.Kind.OTHER:
            raise ValidationError(
                {
                    "organisation_kind": _(
                        "“Other” is not one kind of organisation: reserve the "
                        "places for a named organisation instead."
                    )
                }
            )
