"""Reads about organisations that lower apps need (bookings, funding) without
importing the organisation pages: who is a confirmed member, who holds which
role, and what an organisation's settings mean for a person's booking."""

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from config.search import holding_every_word, search_words

from .models import Membership, Organisation, User


def membership_of(person: User, organisation: Organisation | None) -> Membership | None:
    if organisation is None or person.pk is None:
        return None
    return Membership.objects.filter(person=person, organisation=organisation).first()


def is_confirmed_member(person: User, organisation: Organisation | None) -> bool:
    member = membership_of(person, organisation)
    return member is not None and member.confirmed


def holds_role(person: User, organisation: Organisation | None, role: str) -> bool:
    if role not in Membership.ROLES:
        raise ValueError(f"Unknown organisation role {role!r}")
    member = membership_of(person, organisation)
    return member is not None and member.confirmed and getattr(member, role)


def workplace_of(person: User) -> Organisation | None:
    profile = getattr(person, "profile", None)
    return getattr(profile, "organisation", None)


def account_to_charge(person: User) -> Organisation | None:
    """The organisation a paid place may be charged to: the person's workplace,
    when it pays on account and the person is a confirmed member of it."""
    organisation = workplace_of(person)
    if (
        organisation is not None
        and organisation.pays_on_account
        and is_confirmed_member(person, organisation)
    ):
        return organisation
    return None


def approval_needed_from(
    person: User, *, by: User | None = None
) -> Organisation | None:
    """The organisation whose approver must agree to the person's booking, or
    None: the person's workplace if they are a confirmed member and it asks
    for approval, otherwise any other organisation that confirmed them and
    asks for it (so changing one's workplace does not skip approval). A
    booking made by one of that organisation's bookers or approvers is the
    organisation's own choice and needs no further approval."""
    if person.pk is None:
        return None
    requiring = list(
        Membership.objects.confirmed()
        .filter(person=person, organisation__bookings_need_approval=True)
        .select_related("organisation")
        .order_by("pk")
    )
    if not requiring:
        return None
    workplace = workplace_of(person)
    organisation = next(
        (m.organisation for m in requiring if m.organisation == workplace),
        requiring[0].organisation,
    )
    if by is not None and by.pk != person.pk:
        acting = membership_of(by, organisation)
        if acting and acting.confirmed and (acting.is_booker or acting.is_approver):
            return None
    return organisation


def approvers_of(organisation: Organisation) -> QuerySet[User]:
    """Who can approve: confirmed approvers whose own data may be used (not
    erased, not restricted)."""
    return User.objects.filter(
        memberships__organisation=organisation,
        memberships__status=Membership.Status.CONFIRMED,
        memberships__is_approver=True,
        is_active=True,
        erased_at__isnull=True,
        processing_restricted=False,
    ).order_by("pk")


def roles_held(person: User) -> QuerySet[Membership]:
    """The confirmed memberships in which the person holds at least one role."""
    from django.db.models import Q

    return (
        Membership.objects.confirmed()
        .filter(person=person)
        .filter(Q(is_booker=True) | Q(is_approver=True) | Q(is_finance_contact=True))
        .select_related("organisation")
        .order_by("organisation__name")
    )


def confirmed_members(organisation: Organisation) -> QuerySet[User]:
    """The members an organisation's pages list. A person who restricted the
    use of their data is left out: showing their bookings would use it."""
    return User.objects.filter(
        memberships__organisation=organisation,
        memberships__status=Membership.Status.CONFIRMED,
        is_active=True,
        erased_at__isnull=True,
        processing_restricted=False,
    ).order_by("last_name", "first_name", "pk")


def organisation_named(name: str) -> Organisation | None:
    """The organisation called `name`, ignoring case and spacing (no two are
    named alike that way; the unique index on the lower-cased name finds it)."""
    name = " ".join(name.split())
    if not name:
        return None
    return (
        Organisation.objects.alias(lower_name=Lower("name"))
        .filter(lower_name=Lower(Value(name)))
        .first()
    )


def organisations_matching(text: str, *, limit: int) -> list[Organisation]:
    """The first `limit` organisations by name whose name holds every word of
    `text` (up to five), in any case and anywhere in the name. On PostgreSQL an
    index of the names' trigrams (`accounts/0009`) finds them without reading
    every organisation."""
    if not search_words(text):
        return []
    found = holding_every_word(Organisation.objects.all(), text, "name")
    return list(found.order_by("name", "pk")[:limit])


def suggested_organisation(email: str) -> Organisation | None:
    """The organisation whose email domain matches the address, if any."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    return Organisation.objects.filter(email_domain__iexact=domain).first()


def memberships_of(person: User) -> frozenset[tuple[int, str]]:
    """The person's confirmed memberships as (organisation id, kind) pairs: what
    a ring-fenced place (`courses.Reservation.admits`) asks about."""
    if person.pk is None:
        return frozenset()
    return memberships_of_people([person.pk]).get(person.pk, frozenset())


def memberships_of_people(
    person_ids: list[int],
) -> dict[int, frozenset[tuple[int, str]]]:
    """`memberships_of` for many people in one query, keyed by person id."""
    pairs: dict[int, set[tuple[int, str]]] = {}
    rows = Membership.objects.confirmed().filter(person_id__in=person_ids)
    for person_id, org_id, kind in rows.values_list(
        "person_id", "organisation_id", "organisation__kind"
    ):
        pairs.setdefault(person_id, set()).add((org_id, kind))
    return {pk: frozenset(found) for pk, found in pairs.items()}


def profile_missing(person: User) -> list[str]:
    """What the "Complete your profile" step still asks for: "workplace" and
    "job_title", which paid places and funding rely on. Empty once both are
    given (and for anyone signed out)."""
    from .models import Profile

    if not person.is_authenticated:
        return []
    row = (
        Profile.objects.filter(user=person)
        .values_list("organisation_id", "job_title")
        .first()
    )
    organisation_id, job_title = row or (None, "")
    missing = []
    if organisation_id is None:
        missing.append("workplace")
    if not (job_title or "").strip():
        missing.append("job_title")
    return missing


def users_with_email(
    address: str, among: QuerySet[User] | None = None
) -> QuerySet[User]:
    """People (of `among`, else everyone) whose email is `address` whatever
    its case. Compared as lower(email), the expression of the unique index
    `user_email_unique_ci`, so PostgreSQL looks it up in the index; Django's
    `email__iexact` compares UPPER(email) and reads every account instead
    (hundreds of milliseconds at 200,000 people, on every mail queued)."""
    people = User.objects.all() if among is None else among
    return people.alias(email_ci=Lower("email")).filter(
        email_ci=Lower(Value((address or "").strip()))
    )
