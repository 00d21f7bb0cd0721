import factory

from accounts.models import Profile
from consent.services import record_consent
from marketing.models import Campaign
from tests.accounts.factories import UserFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    purpose = "marketing"
    channel = "email"
    subject = "New courses for {first_name}"
    body = (
        "Hello {first_name},\n\nNew courses are open for booking.\n{recommended_course}"
    )


def person(*, consents=(), phone="", job_title="", **fields):
    """A person with a profile and the given (purpose, channel) consents."""
    user = UserFactory.create(**fields)
    Profile.objects.create(
        user=user,
        phone=phone,
        job_title=job_title,
        address_line_1="1 High Street",
        town="Westmoor",
        postcode="WM1 1AA",
    )
    for purpose, channel in consents:
        record_consent(user, purpose, channel, True, "preferences")
    return user


EMAIL = [("marketing", "email")]
