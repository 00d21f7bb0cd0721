"""Places charged to an organisation's account, dated when a test says."""

import contextlib
import datetime as dt
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from bookings import services as booking_services
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.courses.factories import SessionFactory


def on_account(**fields):
    return OrganisationFactory.create(pays_on_account=True, **fields)


@contextlib.contextmanager
def on_day(day: dt.date | None):
    """Ledger rows written inside are dated `day` (noon, local time)."""
    if day is None:
        yield
        return
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


def charged_place(
    organisation,
    *,
    price: str | Decimal = "120.00",
    person=None,
    purchase_order: str = "",
    day: dt.date | None = None,
):
    """A confirmed member booked by staff onto a paid session, charged to the
    organisation's account."""
    person = person or UserFactory.create()
    member_of(person, organisation)
    staff = UserFactory.create(is_staff=True)
    with on_day(day):
        session = SessionFactory.create(
            course__price=Decimal(price),
            starts_at=timezone.now() + dt.timedelta(days=30),
        )
        return booking_services.book_session(
            person,
            session,
            by=staff,
            organisation=organisation,
            purchase_order=purchase_order,
        )


def cancel(booking, *, day: dt.date | None = None):
    staff = UserFactory.create(is_staff=True)
    with on_day(day):
        return booking_services.cancel_booking(booking, staff, reason="test")


def today() -> dt.date:
    return timezone.localdate()
