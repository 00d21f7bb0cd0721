import factory

from bookings.models import Booking
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    person = factory.SubFactory(UserFactory)
    session = factory.SubFactory(SessionFactory)
    status = Booking.Status.CONFIRMED
