from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LIVE_STATUSES = ("confirmed", "waitlisted", "attended", "no_show")


class BookingQuerySet(models.QuerySet):
    def live(self):
        return self.exclude(status=Booking.Status.CANCELLED)

    def confirmed(self):
        # Attendance is marked on confirmed places, so those still hold a place.
        return self.filter(status__in=Booking.PLACE_HOLDING)

    def waiting(self):
        return self.filter(status=Booking.Status.WAITLISTED)


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("Did not attend")

    PLACE_HOLDING = ("confirmed", "attended", "no_show")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    session = models.ForeignKey(
        "courses.Session", on_delete=models.PROTECT, related_name="bookings"
    )
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # The database, not only the service, refuses a second live booking.
            models.UniqueConstraint(
                fields=["person", "session"],
                condition=~Q(status="cancelled"),
                name="one_live_booking_per_person_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.session} ({self.get_status_display()})"
