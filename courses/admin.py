from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .models import Course, Provider, Reservation, Session, Topic


class UpcomingFilter(admin.SimpleListFilter):
    title = _("upcoming sessions")
    parameter_name = "upcoming"

    def lookups(self, request, model_admin):
        return (("yes", _("Has upcoming sessions")), ("no", _("No upcoming sessions")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if queryset.model is Session:
            if self.value() == "yes":
                return queryset.filter(starts_at__gt=now)
            if self.value() == "no":
                return queryset.filter(starts_at__lte=now)
            return queryset
        upcoming = Exists(
            Session.objects.filter(
                course=OuterRef("pk"),
                starts_at__gt=now,
                status=Session.Status.SCHEDULED,
            )
        )
        if self.value() == "yes":
            return queryset.filter(upcoming)
        if self.value() == "no":
            return queryset.exclude(upcoming)
        return queryset


class CatalogueAdmin(admin.ModelAdmin):
    """Every save or delete here can change what the public catalogue shows."""

    def save_related(self, request, form, formsets, change):
        # Called after save_model on every add, change and list edit.
        super().save_related(request, form, formsets, change)
        services.catalogue_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.catalogue_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.catalogue_changed()


@admin.register(Provider)
class ProviderAdmin(CatalogueAdmin):
    list_display = ("name", "kind", "shares_attendee_details", "contact_email")
    list_filter = ("kind", "shares_attendee_details")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.reindex_courses(obj.courses.values_list("pk", flat=True))


@admin.register(Topic)
class TopicAdmin(CatalogueAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.reindex_courses(obj.courses.values_list("pk", flat=True))


class SessionInline(admin.TabularInline):
    model = Session
    extra = 1
    fields = (
        "starts_at",
        "ends_at",
        "capacity",
        "booking_closes_at",
        "venue",
        "joining_url",
        "minimum_attendees",
        "status",
    )
    # Cancelling tells everyone booked and refunds them: that is done from the
    # session's register page (bookings.services.cancel_session), not by editing.
    readonly_fields = ("status",)
    ordering = ("starts_at",)
    show_change_link = True


@admin.register(Course)
class CourseAdmin(CatalogueAdmin):
    list_display = ("title", "provider", "mode", "cpd_hours", "price", "status")
    list_filter = ("status", "mode", "provider", "topics", UpcomingFilter)
    list_select_related = ("provider",)
    search_fields = ("title", "summary", "provider__name", "topics__name")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("topics",)
    inlines = (SessionInline,)
    actions = ("publish", "archive", "duplicate")
    readonly_fields = ("created_at", "updated_at")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Topics are saved with the relations; index once they are in place.
        services.reindex_courses([form.instance.pk])

    @admin.action(description=_("Publish selected courses"), permissions=["change"])
    def publish(self, request, queryset):
        n = services.publish_courses(queryset)
        self.message_user(
            request, _("%(n)d course(s) published.") % {"n": n}, messages.SUCCESS
        )

    @admin.action(description=_("Archive selected courses"), permissions=["change"])
    def archive(self, request, queryset):
        n = services.archive_courses(queryset)
        self.message_user(
            request, _("%(n)d course(s) archived.") % {"n": n}, messages.SUCCESS
        )

    @admin.action(
        description=_("Duplicate selected courses (as drafts)"), permissions=["add"]
    )
    def duplicate(self, request, queryset):
        for course in queryset:
            copy = services.duplicate_course(course)
            self.log_addition(request, copy, f"Duplicated from course {course.pk}")
            url = reverse("admin:courses_course_change", args=[copy.pk])
            self.message_user(
                request,
                format_html('Created draft <a href="{}">{}</a>.', url, copy.title),
                messages.SUCCESS,
            )


class ReservationFormSet(BaseInlineFormSet):
    """Checks that need the session being saved (its places and start as
    entered on the same page), which a reservation's own `clean` cannot see."""

    def clean(self):
        super().clean()
        session = self.instance
        now = timezone.now()
        total = 0
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            places, until = (
                form.cleaned_data.get("places"),
                form.cleaned_data.get("until"),
            )
            if places and session.capacity and places > session.capacity:
                form.add_error(
                    "places",
                    _(
                        "Reserve at most the session's %(capacity)s places, "
                        "not %(places)s."
                    )
                    % {"capacity": session.capacity, "places": places},
                )
            if until and session.starts_at and until > session.starts_at:
                form.add_error(
                    "until",
                    _(
                        "Reserve the places until a moment before the session "
                        "starts (%(starts)s), not after it."
                    )
                    % {
                        "starts": f"{timezone.localtime(session.starts_at):%-d %B %Y %H:%M}"
                    },
                )
            if places and until and until > now:
                total += places
        if session.pk is not None:
            # Rows of this session left out of what was sent count too.
            sent = [f.instance.pk for f in self.forms if f.instance.pk]
            total += sum(
                Reservation.objects.filter(session=session, until__gt=now)
                .exclude(pk__in=sent)
                .values_list("places", flat=True)
            )
        if session.capacity and total > session.capacity:
            raise ValidationError(
                _(
                    "The reservations still running hold %(total)s places between "
                    "them, more than the session's %(capacity)s."
                )
                % {"total": total, "capacity": session.capacity}
            )


class ReservationInline(admin.TabularInline):
    """Ring-fenced places (bookings.services enforces them). Not deleted, so
    the record stays: to end one early, set its date to now and the next sweep
    gives the places to the waiting list."""

    model = Reservation
    formset = ReservationFormSet
    extra = 0
    can_delete = False
    fields = (
        "places",
        "organisation",
        "organisation_kind",
        "until",
        "created_by",
        "created_at",
        "released_at",
    )
    readonly_fields = ("created_by", "created_at", "released_at")
    autocomplete_fields = ("organisation",)
    verbose_name = _("ring-fenced places")
    verbose_name_plural = _("ring-fenced places")


@admin.register(Session)
class SessionAdmin(CatalogueAdmin):
    list_display = (
        "course",
        "starts_at",
        "status",
        "capacity",
        "confirmed",
        "waiting",
        "places",
        "register",
    )
    readonly_fields = ("status", "cancelled_at", "minimum_waived_at")
    list_filter = ("status", "course__mode", "course__provider", UpcomingFilter)
    list_select_related = ("course",)
    search_fields = ("course__title", "venue")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("course",)
    actions = ("add_like_this",)
    inlines = (ReservationInline,)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Reservation:
            return super().save_formset(request, form, formset, change)
        now = timezone.now()
        for reservation in formset.save(commit=False):
            if reservation.pk is None:
                reservation.created_by = request.user
            if reservation.until > now:
                # Extended after it lapsed: it holds its places again.
                reservation.released_at = None
            reservation.save()
        return None

    def get_queryset(self, request):
        # Counts come from the query itself: no query per row.
        return selectors.sessions_with_counts().select_related("course")

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, obj):
        return obj.confirmed_count

    @admin.display(description=_("waiting"), ordering="waiting_count")
    def waiting(self, obj):
        return obj.waiting_count

    @admin.display(description=_("places left"), ordering="places_left")
    def places(self, obj):
        return obj.places_left

    @admin.display(description=_("register"))
    def register(self, obj):
        # Attendance, attendee lists, cancelling and moving live on the staff page.
        return format_html('<a href="/staff/sessions/{}/">Register</a>', obj.pk)

    @admin.action(description=_("Add another session like this"), permissions=["add"])
    def add_like_this(self, request, queryset):
        for session in queryset:
            new = services.add_session_like(session)
            self.log_addition(request, new, f"Added like session {session.pk}")
            url = reverse("admin:courses_session_change", args=[new.pk])
            self.message_user(
                request,
                format_html('Added <a href="{}">{}</a>.', url, new),
                messages.SUCCESS,
            )
