"""Who is alerted when a session is below its minimum numbers: booking
administrators only, never learners or other staff."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import MailRecord
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_only_booking_administrators_are_alerted_about_low_numbers():
    admin = UserFactory.create(is_staff=True)
    admin.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    UserFactory.create()  # a learner
    other_staff = UserFactory.create(is_staff=True)
    other_staff.groups.add(Group.objects.get(name=roles.COURSE_ADMINS))
    session = SessionFactory.create(
        minimum_attendees=3, starts_at=timezone.now() + dt.timedelta(days=2)
    )

    assert services.check_minimum_numbers() == 1

    assert [(r.kind, r.session, r.to) for r in MailRecord.objects.all()] == [
        ("minimum_alert", session, admin.email)
    ]
