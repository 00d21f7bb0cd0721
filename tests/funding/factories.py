import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from funding.models import (
    Application,
    ApplicationType,
    FundingRequest,
    FundingRound,
    FundingStream,
)
from tests.accounts.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32


class FundingStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingStream

    name = factory.Sequence(lambda n: f"CPD fund {n}")
    annual_allowance = Decimal("333.00")


class FundingRoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingRound

    stream = factory.SubFactory(FundingStreamFactory)
    name = factory.Sequence(lambda n: f"Round {n}")
    opens_on = factory.LazyFunction(
        lambda: timezone.localdate() - dt.timedelta(days=10)
    )
    closes_on = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=20)
    )


class FundingRequestFactory(factory.django.DjangoModelFactory):
    """A complete draft, ready to submit."""

    class Meta:
        model = FundingRequest

    person = factory.SubFactory(UserFactory)
    course_name = factory.Sequence(lambda n: f"Advanced Practice module {n}")
    provider_name = "University of Westmoor"
    cost = Decimal("1200.00")
    start_date = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=30)
    )
    reason = "It lets me run the minor illness clinic."
    manager_name = "Maria Manager"
    manager_email = factory.Sequence(lambda n: f"manager{n}@practice.example")


class ApplicationTypeFactory(factory.django.DjangoModelFactory):
    """The apprenticeship type the data migration creates, unless told
    otherwise (transactional tests empty the tables it filled)."""

    class Meta:
        model = ApplicationType
        django_get_or_create = ("slug",)

    slug = "apprenticeship"
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    subject_label = "Which apprenticeship programme are you interested in?"
    statement_label = "Personal statement"


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    person = factory.SubFactory(UserFactory)
    type = factory.SubFactory(ApplicationTypeFactory)
    programme = "Nursing Associate (level 5)"
    employer_name = "Westmoor Surgery"
    manager_name = "Maria Manager"
    manager_email = factory.Sequence(lambda n: f"boss{n}@practice.example")
    statement = "I want to grow into nursing."


def cheap_people(n: int) -> list:
    """People without a password hash (hashing makes 30 of them take seconds)."""
    from accounts.models import User

    start = User.objects.count()
    people = [
        User(email=f"cheap{start + i}@example.org", first_name="Pat", last_name=str(i))
        for i in range(n)
    ]
    for person in people:
        person.set_unusable_password()
    return User.objects.bulk_create(people)
