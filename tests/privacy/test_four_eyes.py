"""Four eyes on removing a staff or superuser account, driven through the back
office as people use it: POSTs to the changelist actions, the messages they
show, and what is (or is not) changed on the account and in the audit trail.

The rule (accounts/four_eyes.py): a data-protection lead alone erases a
learner's account, but a staff or superuser account only when a second,
different person approves (never the one who asked, never the account's owner;
a superuser's account needs a superuser as the one who asks or approves), or
when a superuser (not on their own account) acts alone. Deactivating a staff
account follows the same rule with the permission to change accounts.
"""

import html
import threading

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from accounts import roles
from accounts import services as account_services
from accounts.models import User
from privacy import services as privacy_services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

REQUESTS = "/admin/privacy/datasubjectrequest/"
USERS = "/admin/accounts/user/"


def signed_in(user: User) -> Client:
    if not Authenticator.objects.filter(user=user).exists():
        give_totp(user)
    client = Client()
    client.force_login(user)
    return client


def dp_lead(**extra) -> User:
    lead = UserFactory.create(is_staff=True, **extra)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    return lead


def superuser() -> User:
    return UserFactory.create(is_staff=True, is_superuser=True)


def staff_account() -> User:
    staff = UserFactory.create(is_staff=True, email="booking.admin@example.org")
    staff.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    return staff


def erasure_request(person: User) -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        person=person, kind="erasure", identity_verified=True
    )


def act(client: Client, url: str, action: str, obj, **data) -> str:
    """Run a changelist action on one object; the page the person then sees."""
    response = client.post(
        url, {"action": action, "_selected_action": [obj.pk], **data}, follow=True
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def assert_intact(person: User, *, email: str) -> None:
    person.refresh_from_db()
    assert person.erased_at is None
    assert person.email == email
    assert person.is_active
    assert person.is_staff


def actions_on(person: User) -> list[tuple[str, int | None]]:
    return list(
        AuditEvent.objects.filter(subject=f"user:{person.pk}")
        .order_by("pk")
        .values_list("action", "actor_id")
    )


# --- erasure --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_data_protection_lead_alone_cannot_erase_a_staff_account():
    lead = dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    client = signed_in(lead)

    page = act(client, REQUESTS, "erase_data", dsr, confirm="yes")

    assert "This is a staff account: one person alone cannot erase it." in page
    assert "Nothing was erased." in page
    assert "another data-protection lead or a superuser must then approve" in page
    # No confirmation page is offered for an erasure that cannot happen.
    assert "Yes, erase this person" not in act(client, REQUESTS, "erase_data", dsr)
    assert_intact(staff, email="booking.admin@example.org")
    dsr.refresh_from_db()
    assert dsr.status == "received"
    assert not dsr.awaiting_second_approver
    assert actions_on(staff) == []


@pytest.mark.django_db
def test_a_second_data_protection_lead_approves_and_the_erasure_happens():
    first, second = dp_lead(first_name="Asha", last_name="First"), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    first_client, second_client = signed_in(first), signed_in(second)

    page = act(first_client, REQUESTS, "request_erasure_approval", dsr)
    assert f"Erasure in request #{dsr.pk} is now awaiting a second approver." in page
    assert "Nothing has been erased yet." in page
    assert "must choose “Approve erasure (second approver)”" in page
    assert_intact(staff, email="booking.admin@example.org")
    dsr.refresh_from_db()
    assert dsr.approval_requested_by == first
    assert dsr.approval_requested_at is not None

    # The second lead finds it under "Awaiting second approver".
    waiting = html.unescape(
        second_client.get(REQUESTS + "?second_approver=awaiting").content.decode()
    )
    assert "Awaiting second approver: asked for by Asha First" in waiting
    assert f"/{dsr.pk}/change/" in waiting

    confirm = act(second_client, REQUESTS, "approve_erasure", dsr)
    assert "Asha First asked for this erasure" in confirm
    assert "You are the second approver" in confirm
    assert_intact(staff, email="booking.admin@example.org")

    done = act(second_client, REQUESTS, "approve_erasure", dsr, confirm="yes")
    assert (
        f"Personal data erased (request #{dsr.pk}): asked for by Asha First, "
        "approved by you." in done
    )
    staff.refresh_from_db()
    assert staff.erased_at is not None
    assert staff.email == f"erased-{staff.pk}@erased.invalid"
    assert not staff.is_staff
    assert not staff.is_active
    assert not staff.groups.exists()
    dsr.refresh_from_db()
    assert dsr.status == "completed"
    assert dsr.completed_by == second
    assert not dsr.awaiting_second_approver
    assert actions_on(staff)[:2] == [
        ("erasure requested", first.pk),
        ("erasure approved", second.pk),
    ]
    assert ("erasure", second.pk) in actions_on(staff)
    approved = AuditEvent.objects.get(action="erasure approved", request=dsr)
    assert approved.detail == f"asked for by user:{first.pk}"
    waiting = second_client.get(REQUESTS + "?second_approver=awaiting")
    assert f"/{dsr.pk}/change/" not in waiting.content.decode()


@pytest.mark.django_db
def test_the_person_who_asked_cannot_also_approve():
    lead = dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    client = signed_in(lead)
    act(client, REQUESTS, "request_erasure_approval", dsr)

    page = act(client, REQUESTS, "approve_erasure", dsr, confirm="yes")
    assert "Nothing was erased." in page
    assert "You asked for this yourself: a different person must approve it." in page
    again = act(client, REQUESTS, "request_erasure_approval", dsr)
    assert "This erasure is already awaiting a second approver." in again

    assert_intact(staff, email="booking.admin@example.org")
    dsr.refresh_from_db()
    assert dsr.awaiting_second_approver
    assert dsr.status == "received"
    assert actions_on(staff) == [("erasure requested", lead.pk)]


@pytest.mark.django_db
def test_the_account_owner_cannot_approve_their_own_erasure():
    asker = dp_lead()
    owner = dp_lead(email="lead.leaving@example.org")
    dsr = erasure_request(owner)
    act(signed_in(asker), REQUESTS, "request_erasure_approval", dsr)

    page = act(signed_in(owner), REQUESTS, "approve_erasure", dsr, confirm="yes")
    assert "You cannot approve this for your own account." in page
    assert_intact(owner, email="lead.leaving@example.org")
    dsr.refresh_from_db()
    assert dsr.awaiting_second_approver


@pytest.mark.django_db
def test_a_superuser_alone_can_erase_a_staff_account():
    staff = staff_account()
    dsr = erasure_request(staff)
    client = signed_in(superuser())

    confirm = act(client, REQUESTS, "erase_data", dsr)
    assert "Yes, erase this person" in confirm
    page = act(client, REQUESTS, "erase_data", dsr, confirm="yes")

    assert "Personal data erased." in page
    staff.refresh_from_db()
    assert staff.erased_at is not None
    assert not staff.is_staff


@pytest.mark.django_db
def test_a_superuser_alone_is_enough_to_approve_a_pending_erasure():
    lead, admin = dp_lead(), superuser()
    staff = staff_account()
    dsr = erasure_request(staff)
    act(signed_in(lead), REQUESTS, "request_erasure_approval", dsr)

    page = act(signed_in(admin), REQUESTS, "approve_erasure", dsr, confirm="yes")

    assert "approved by you" in page
    staff.refresh_from_db()
    assert staff.erased_at is not None
    assert actions_on(staff)[:2] == [
        ("erasure requested", lead.pk),
        ("erasure approved", admin.pk),
    ]


@pytest.mark.django_db
def test_a_superusers_account_needs_a_superuser_to_ask_or_approve():
    first, second, admin = dp_lead(), dp_lead(), superuser()
    target = UserFactory.create(
        is_staff=True, is_superuser=True, email="root@example.org"
    )
    dsr = erasure_request(target)

    refused = act(signed_in(first), REQUESTS, "erase_data", dsr, confirm="yes")
    assert "This is a superuser's account: one person alone cannot erase it." in refused
    asked = act(signed_in(first), REQUESTS, "request_erasure_approval", dsr)
    assert "A superuser (not you, and not the account's owner) must choose" in asked
    page = act(signed_in(second), REQUESTS, "approve_erasure", dsr, confirm="yes")
    assert (
        "This is a superuser's account: a superuser must ask for this or approve it."
        in page
    )
    assert_intact(target, email="root@example.org")
    assert target.is_superuser

    act(signed_in(admin), REQUESTS, "approve_erasure", dsr, confirm="yes")
    target.refresh_from_db()
    assert target.erased_at is not None
    assert not target.is_superuser


@pytest.mark.django_db
def test_a_superuser_cannot_erase_their_own_account_alone():
    admin = UserFactory.create(
        is_staff=True, is_superuser=True, email="self@example.org"
    )
    dsr = erasure_request(admin)
    page = act(signed_in(admin), REQUESTS, "erase_data", dsr, confirm="yes")
    assert "This is your own account: another person must approve its erasure." in page
    assert_intact(admin, email="self@example.org")


@pytest.mark.django_db
def test_rejection_leaves_the_account_intact_and_needs_a_reason():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    act(signed_in(first), REQUESTS, "request_erasure_approval", dsr)
    client = signed_in(second)

    form = act(client, REQUESTS, "reject_erasure", dsr)
    assert "Why are you rejecting or cancelling it?" in form
    no_reason = act(client, REQUESTS, "reject_erasure", dsr, confirm="yes", reason=" ")
    assert "Give the reason for rejecting or cancelling it." in no_reason
    dsr.refresh_from_db()
    assert dsr.awaiting_second_approver

    page = act(
        client,
        REQUESTS,
        "reject_erasure",
        dsr,
        confirm="yes",
        reason="Still employed: HR has not confirmed the leaving date",
    )
    assert f"The erasure in request #{dsr.pk} was rejected; nothing was erased" in page
    assert_intact(staff, email="booking.admin@example.org")
    dsr.refresh_from_db()
    assert not dsr.awaiting_second_approver
    assert dsr.status == "received"
    change = client.get(f"{REQUESTS}{dsr.pk}/change/").content.decode()
    assert "Still employed: HR has not confirmed the leaving date" in change
    assert actions_on(staff) == [
        ("erasure requested", first.pk),
        ("erasure rejected", second.pk),
    ]
    # A rejected request can no longer be approved.
    late = act(client, REQUESTS, "approve_erasure", dsr, confirm="yes")
    assert "Nobody has asked for a second approver on this request" in late
    assert_intact(staff, email="booking.admin@example.org")


@pytest.mark.django_db
def test_the_person_who_asked_can_cancel():
    lead = dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    client = signed_in(lead)
    act(client, REQUESTS, "request_erasure_approval", dsr)

    page = act(
        client, REQUESTS, "reject_erasure", dsr, confirm="yes", reason="Wrong request"
    )

    assert f"The erasure in request #{dsr.pk} was cancelled" in page
    assert_intact(staff, email="booking.admin@example.org")
    assert actions_on(staff)[-1] == ("erasure cancelled", lead.pk)


@pytest.mark.django_db
def test_what_was_asked_for_cannot_be_changed_while_it_awaits_approval():
    lead = dp_lead()
    dsr = erasure_request(staff_account())
    client = signed_in(lead)
    act(client, REQUESTS, "request_erasure_approval", dsr)
    change = client.get(f"{REQUESTS}{dsr.pk}/change/").content.decode()
    assert 'name="person"' not in change
    assert 'name="identity_verified"' not in change


@pytest.mark.django_db
def test_a_request_voids_when_the_person_who_asked_loses_the_role():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    act(signed_in(first), REQUESTS, "request_erasure_approval", dsr)
    first.groups.clear()

    page = act(signed_in(second), REQUESTS, "approve_erasure", dsr, confirm="yes")

    assert "The person who asked no longer holds the permission to ask" in page
    assert_intact(staff, email="booking.admin@example.org")


@pytest.mark.django_db
def test_a_learners_account_is_still_erased_by_one_lead():
    learner = UserFactory.create()
    dsr = erasure_request(learner)
    client = signed_in(dp_lead())
    asked = act(client, REQUESTS, "request_erasure_approval", dsr)
    assert "This is not a staff account: choose “Erase personal data”" in asked
    act(client, REQUESTS, "erase_data", dsr, confirm="yes")
    learner.refresh_from_db()
    assert learner.erased_at is not None


# --- deactivation -----------------------------------------------------------------


def change_form_data(client: Client, url: str) -> dict:
    """What the account's page would post back unchanged (form and inlines)."""
    context = client.get(url).context
    forms = [context["adminform"].form]
    data = {}
    for inline in context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {
            management.add_prefix(n): management[n].value() for n in management.fields
        }
        forms += inline.formset.forms
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value not in (None, False):
                data[form.add_prefix(name)] = value
    return data


@pytest.mark.django_db
def test_a_staff_account_is_deactivated_only_with_a_second_approver():
    first = dp_lead(first_name="Asha", last_name="First")
    second = dp_lead()
    staff = staff_account()
    first_client, second_client = signed_in(first), signed_in(second)

    page = act(first_client, USERS, "request_deactivation", staff)
    assert "Deactivation of booking.admin@example.org is now awaiting a second" in page
    assert "The account is still active." in page
    assert_intact(staff, email="booking.admin@example.org")
    waiting = html.unescape(
        second_client.get(USERS + "?second_approver=awaiting").content.decode()
    )
    assert "Deactivation awaiting second approver: asked for by Asha First" in waiting

    own = act(first_client, USERS, "approve_deactivation", staff)
    assert "The account is still active." in own
    assert "You asked for this yourself" in own
    assert_intact(staff, email="booking.admin@example.org")

    done = act(second_client, USERS, "approve_deactivation", staff)
    assert (
        "The account booking.admin@example.org is deactivated: asked for by "
        "Asha First, approved by you." in done
    )
    staff.refresh_from_db()
    assert not staff.is_active
    assert not staff.deactivation_pending
    assert actions_on(staff) == [
        ("deactivation requested", first.pk),
        ("deactivation approved", second.pk),
    ]


@pytest.mark.django_db
def test_the_owner_cannot_approve_their_own_deactivation():
    asker = dp_lead()
    owner = dp_lead(email="lead.leaving@example.org")
    act(signed_in(asker), USERS, "request_deactivation", owner)
    page = act(signed_in(owner), USERS, "approve_deactivation", owner)
    assert "You cannot approve this for your own account." in page
    assert_intact(owner, email="lead.leaving@example.org")


@pytest.mark.django_db
def test_a_superusers_deactivation_needs_a_superuser():
    first, second = dp_lead(), dp_lead()
    target = UserFactory.create(
        is_staff=True, is_superuser=True, email="root@example.org"
    )
    act(signed_in(first), USERS, "request_deactivation", target)
    page = act(signed_in(second), USERS, "approve_deactivation", target)
    assert "a superuser must ask for this or approve it" in page
    assert_intact(target, email="root@example.org")
    act(signed_in(superuser()), USERS, "approve_deactivation", target)
    target.refresh_from_db()
    assert not target.is_active


@pytest.mark.django_db
def test_rejecting_a_deactivation_leaves_the_account_active():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    act(signed_in(first), USERS, "request_deactivation", staff)

    page = act(
        signed_in(second),
        USERS,
        "reject_deactivation",
        staff,
        confirm="yes",
        reason="On leave, not leaving",
    )

    assert "The deactivation of booking.admin@example.org was rejected" in page
    assert "the account is still active" in page
    assert_intact(staff, email="booking.admin@example.org")
    staff.refresh_from_db()
    assert not staff.deactivation_pending
    assert staff.deactivation_refusal_reason == "On leave, not leaving"
    assert actions_on(staff) == [
        ("deactivation requested", first.pk),
        ("deactivation rejected", second.pk),
    ]
    late = act(signed_in(second), USERS, "approve_deactivation", staff)
    assert "Nobody has asked for this account to be deactivated." in late
    assert_intact(staff, email="booking.admin@example.org")


@pytest.mark.django_db
def test_a_superuser_alone_deactivates_a_staff_account_on_its_page():
    admin = superuser()
    staff = staff_account()
    client = signed_in(admin)
    url = f"{USERS}{staff.pk}/change/"
    data = change_form_data(client, url)
    assert data.pop("is_active") == "on"

    response = client.post(url, data)

    assert response.status_code == 302
    staff.refresh_from_db()
    assert not staff.is_active
    assert actions_on(staff) == [("account deactivated", admin.pk)]


@pytest.mark.django_db
def test_nobody_deactivates_their_own_account_alone():
    admin = superuser()
    client = signed_in(admin)
    page = client.get(f"{USERS}{admin.pk}/change/").content.decode()
    assert 'name="is_active"' not in page
    lead = dp_lead()
    page = signed_in(lead).get(f"{USERS}{staff_account().pk}/change/")
    assert 'name="is_active"' not in page.content.decode()


@pytest.mark.django_db
def test_a_role_that_cannot_change_accounts_cannot_ask():
    booking_admin = staff_account()
    staff = UserFactory.create(is_staff=True, email="other.staff@example.org")
    client = signed_in(booking_admin)
    client.post(
        USERS, {"action": "request_deactivation", "_selected_action": [staff.pk]}
    )
    assert_intact(staff, email="other.staff@example.org")
    assert not User.objects.get(pk=staff.pk).deactivation_pending


# --- races --------------------------------------------------------------------------


def race(*steps) -> list[str]:
    """Run the steps at the same moment; which of them succeeded."""
    barrier = threading.Barrier(len(steps))
    done = []

    def run(name, step):
        barrier.wait()
        try:
            step()
            done.append(name)
        except (privacy_services.PrivacyError, account_services.AccountsError):
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=step) for step in steps]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return done


@pytest.mark.django_db(transaction=True)
def test_an_approval_racing_a_rejection_lets_exactly_one_win():
    # Superusers hold every permission without the role groups, which a
    # transactional test cannot rely on.
    asker, approver, rejecter = superuser(), superuser(), superuser()
    staff = UserFactory.create(is_staff=True)
    dsr = erasure_request(staff)
    privacy_services.request_erasure_approval(dsr, by=asker)

    done = race(
        ("approve", lambda: privacy_services.approve_erasure(dsr, by=approver)),
        (
            "reject",
            lambda: privacy_services.reject_erasure(dsr, by=rejecter, reason="No"),
        ),
    )

    assert len(done) == 1
    staff.refresh_from_db()
    assert (staff.erased_at is not None) is (done == ["approve"])
    decided = AuditEvent.objects.filter(
        action__in=["erasure approved", "erasure rejected"]
    )
    assert decided.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deactivation_approval_racing_a_rejection_lets_exactly_one_win():
    asker, approver, rejecter = superuser(), superuser(), superuser()
    staff = UserFactory.create(is_staff=True)
    account_services.request_deactivation(staff, by=asker)

    done = race(
        ("approve", lambda: account_services.approve_deactivation(staff, by=approver)),
        (
            "reject",
            lambda: account_services.reject_deactivation(
                staff, by=rejecter, reason="No"
            ),
        ),
    )

    assert len(done) == 1
    staff.refresh_from_db()
    assert staff.is_active is (done == ["reject"])
