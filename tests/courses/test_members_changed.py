"""Who belongs to an organisation decides how many of a reservation's places
are left, so every way of writing memberships, and an organisation's kind
changing, marks the cached catalogue changed while a reservation still
running admits those members (`accounts.signals.members_changed`, received
by `courses.services.members_changed`). Before, the services and three
admin methods each called the hook, and a write anywhere else (erasure's
delete of a person's memberships among them) left cached pages stale."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Membership, Organisation
from courses import services
from courses.models import Reservation
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def reserve_for(organisation=None, kind=""):
    session = SessionFactory.create(capacity=5)
    return Reservation.objects.create(
        session=session,
        places=3,
        organisation=organisation,
        organisation_kind=kind,
        until=session.starts_at - dt.timedelta(days=1),
    )


def _confirmed(org, other):
    membership = Membership.objects.get(organisation=org)
    membership.status = Membership.Status.CONFIRMED
    membership.save()


def _moved(org, other):
    membership = Membership.objects.get(organisation=org)
    membership.organisation = other
    membership.save()


# Each write, given the organisation a running reservation admits (with one
# member asking to join, except where the write creates it) and another.
WRITES = {
    "created": lambda org, other: member_of(UserFactory.create(), org),
    "confirmed": _confirmed,
    "moved away": _moved,
    "deleted": lambda org, other: Membership.objects.get(organisation=org).delete(),
    "deleted in bulk": lambda org, other: Membership.objects.filter(
        organisation=org
    ).delete(),
    "updated in bulk": lambda org, other: Membership.objects.filter(
        organisation=org
    ).update(status=Membership.Status.CONFIRMED),
    "moved away in bulk": lambda org, other: Membership.objects.filter(
        organisation=org
    ).update(organisation=other),
    "created in bulk": lambda org, other: Membership.objects.bulk_create(
        [Membership(person=UserFactory.create(), organisation=org)]
    ),
    "person deleted (cascade)": lambda org, other: Membership.objects.get(
        organisation=org
    ).person.delete(),
}
CREATES = {"created", "created in bulk"}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_of_memberships_marks_the_catalogue_changed(write):
    org, other = OrganisationFactory.create_batch(2)
    if write not in CREATES:
        member_of(UserFactory.create(), org, confirmed=False)
    reserve_for(org)
    before = services.catalogue_version()
    WRITES[write](org, other)
    assert services.catalogue_version() > before


@pytest.mark.parametrize("write", list(WRITES))
def test_memberships_of_organisations_no_reservation_admits_change_nothing(write):
    org, other = OrganisationFactory.create_batch(2)
    if write not in CREATES:
        member_of(UserFactory.create(), org, confirmed=False)
    reserve_for(OrganisationFactory.create())  # someone else's
    old = reserve_for(org)
    Reservation.objects.filter(pk=old.pk).update(released_at=timezone.now())
    before = services.catalogue_version()
    WRITES[write](org, other)
    assert services.catalogue_version() == before


def test_an_organisation_changing_kind_marks_the_catalogue_changed():
    school = OrganisationFactory.create(kind=Organisation.Kind.SCHOOL)
    reserve_for(kind=Organisation.Kind.SCHOOL)
    loaded = Organisation.objects.get(pk=school.pk)
    before = services.catalogue_version()
    loaded.name = "Renamed"
    loaded.save()
    assert services.catalogue_version() == before  # the same kind
    loaded.kind = Organisation.Kind.PRACTICE  # no longer admitted as a school
    loaded.save()
    assert services.catalogue_version() > before
