"""Who belongs to an organisation decides how many of a reservation's places
are left, so every way of writing memberships, and an organisation's kind
changing, marks the cached catalogue changed while a reservation still
running admits those members (`accounts.signals.members_changed`, received
by `courses.services.members_changed`). Before, the services and three
admin methods each called the hook, and a write anywhere else (erasure's
delete of a person's memberships among them) left cached pages stale."""

import datetime as dt

import pytest
from django.db.models import F
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


def _bulk_moved(org, other):
    membership = Membership.objects.get(organisation=org)
    membership.organisation = other
    Membership.objects.bulk_update([membership], ["organisation"])


CONFIRMED, REQUESTED = Membership.Status.CONFIRMED, Membership.Status.REQUESTED

# Each write that changes who is a confirmed member of the organisation a
# running reservation admits: (the status of its one member beforehand, or
# None for none, and the write, given it and another organisation).
WRITES = {
    "created": (None, lambda org, other: member_of(UserFactory.create(), org)),
    "confirmed": (REQUESTED, _confirmed),
    "moved away": (CONFIRMED, _moved),
    "deleted": (
        CONFIRMED,
        lambda org, other: Membership.objects.get(organisation=org).delete(),
    ),
    "deleted in bulk": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).delete(),
    ),
    "confirmed in bulk": (
        REQUESTED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            status=CONFIRMED
        ),
    ),
    "unconfirmed in bulk": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            status=REQUESTED
        ),
    ),
    "moved away in bulk": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            organisation=other
        ),
    ),
    "moved by bulk_update": (CONFIRMED, _bulk_moved),
    "moved by an expression": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            organisation_id=F("organisation_id") + (other.pk - org.pk)
        ),
    ),
    "created in bulk": (
        None,
        lambda org, other: Membership.objects.bulk_create(
            [
                Membership(
                    person=UserFactory.create(), organisation=org, status=CONFIRMED
                )
            ]
        ),
    ),
    "person deleted (cascade)": (
        CONFIRMED,
        lambda org, other: Membership.objects.get(organisation=org).person.delete(),
    ),
    # The places a reservation counts are its confirmed members' bookings.
    "given to another person": (CONFIRMED, lambda org, other: _to_another(org)),
    "given to another person in bulk": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            person=UserFactory.create()
        ),
    ),
    "moved in": (None, lambda org, other: _moved_in(org, other)),
    "deleted, its status not read": (
        CONFIRMED,
        lambda org, other: (
            Membership.objects.only("pk", "organisation_id")
            .get(organisation=org)
            .delete()
        ),
    ),
    "moved, read in part then refreshed in part": (
        CONFIRMED,
        lambda org, other: _moved_after_a_partial_refresh(org, other),
    ),
}


def _to_another(org):
    membership = Membership.objects.get(organisation=org)
    membership.person = UserFactory.create()
    membership.save()


def _moved_in(org, other):
    membership = member_of(UserFactory.create(), other)  # not reserved
    membership.organisation = org
    membership.save()


def _moved_after_a_partial_refresh(org, other):
    membership = Membership.objects.only("pk", "person_id", "organisation_id").get(
        organisation=org
    )
    membership.organisation = other
    assert membership.confirmed  # reads the deferred status: a partial refresh
    membership.refresh_from_db(fields=["is_booker"])
    membership.save()


# Writes that change no confirmed membership: what a reservation counts stays.
UNCOUNTED = {
    "asked to join": (
        None,
        lambda org, other: member_of(UserFactory.create(), org, confirmed=False),
    ),
    "a request deleted": (
        REQUESTED,
        lambda org, other: Membership.objects.filter(organisation=org).delete(),
    ),
    "a role given": (
        CONFIRMED,
        lambda org, other: Membership.objects.filter(organisation=org).update(
            is_booker=True
        ),
    ),
}
# Saving a membership that exists always tells (a role given, a request
# moved, too): which fields changed since it was read is not known for sure
# (a copy read before a bulk change), and telling too often costs a query.


def given(org, status):
    if status is not None:
        member_of(UserFactory.create(), org, confirmed=status == CONFIRMED)


def catalogue_changed_by(write, reserve) -> bool:
    """Whether `write` (given its organisation's member) marks the cached
    catalogue changed, after `reserve(org)` has set up the reservations."""
    org, other = (
        OrganisationFactory.create(kind=Organisation.Kind.SCHOOL) for _ in range(2)
    )
    status, act = write
    given(org, status)
    reserve(org)
    before = services.catalogue_version()
    act(org, other)
    return services.catalogue_version() != before


def released_and_someone_elses(org) -> None:
    reserve_for(OrganisationFactory.create())
    old = reserve_for(org)
    Reservation.objects.filter(pk=old.pk).update(released_at=timezone.now())


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_of_memberships_marks_the_catalogue_changed(write):
    assert catalogue_changed_by(WRITES[write], reserve_for)


@pytest.mark.parametrize("write", list(WRITES))
def test_memberships_of_organisations_no_reservation_admits_change_nothing(write):
    assert not catalogue_changed_by(WRITES[write], released_and_someone_elses)


@pytest.mark.parametrize("write", list(UNCOUNTED))
def test_writes_that_change_no_confirmed_member_change_nothing(write):
    """A reservation counts confirmed members only: a sign-up asking to
    join a school must not empty every cached page when a reservation is
    open to all schools."""
    assert not catalogue_changed_by(
        UNCOUNTED[write], lambda org: reserve_for(kind=Organisation.Kind.SCHOOL)
    )


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


def test_organisations_changing_kind_in_bulk_mark_the_catalogue_changed():
    schools = OrganisationFactory.create_batch(2, kind=Organisation.Kind.SCHOOL)
    reserve_for(kind=Organisation.Kind.SCHOOL)
    before = services.catalogue_version()
    Organisation.objects.filter(pk=schools[0].pk).update(area="Leeds")
    assert services.catalogue_version() == before  # not the kind
    Organisation.objects.filter(pk__in=[o.pk for o in schools]).update(
        kind=Organisation.Kind.PRACTICE
    )
    assert services.catalogue_version() > before
