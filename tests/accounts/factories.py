import factory

from accounts.models import Organisation, Profile, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.SCHOOL


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)


def member_of(person, organisation, *, confirmed=True, workplace=True, **roles):
    """Make `person` a member of `organisation` (confirmed unless told), with
    the given role flags (is_booker=True, ...); their workplace is set too."""
    from django.utils import timezone

    from accounts.models import Membership
    from accounts.services import profile_for

    if workplace:
        profile = profile_for(person)
        profile.organisation = organisation
        profile.save()
    membership, _ = Membership.objects.update_or_create(
        person=person,
        organisation=organisation,
        defaults={
            "status": "confirmed" if confirmed else "requested",
            "confirmed_at": timezone.now() if confirmed else None,
            **roles,
        },
    )
    return membership


def verified_person(**kwargs):
    """A person whose email address is verified, so they can book."""
    from allauth.account.models import EmailAddress

    person = UserFactory.create(**kwargs)
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    return person
