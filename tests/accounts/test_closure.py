"""Closing an account: by the person at once, by the data-protection lead after
a notice period with the reason; reopening on request; each step audited and
mailed once."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import AccountClosure, User
from accounts.services import (
    AccountsError,
    cancel_scheduled_closure,
    close_due_accounts,
    close_own_account,
    reopen_account,
    schedule_account_closure,
)
from accounts.tasks import send_closure_mail
from bookings.models import Booking, MailRecord
from config import outbox
from consent.models import ConsentRecord
from consent.selectors import can_contact
from consent.services import record_consent
from privacy.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def verified(**kwargs) -> User:
    person = UserFactory.create(**kwargs)
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    return person


def dp_lead() -> User:
    lead = UserFactory.create(is_staff=True)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    return User.objects.get(pk=lead.pk)  # fresh permission cache


def sign_in(client: Client, person: User):
    return client.post(
        "/accounts/login/", {"login": person.email, "password": PASSWORD}
    )


def actions_for(person: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject=f"user:{person.pk}")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def full_session_with_queue(person: User):
    """A one-place session held by `person`, with someone waiting."""
    session = SessionFactory.create(capacity=1)
    held = BookingFactory.create(person=person, session=session, status="confirmed")
    waiting = BookingFactory.create(session=session, status="waitlisted")
    return held, waiting


# --- end to end: the person closes, staff reopen ---------------------------------


def test_closure_end_to_end_ask_confirm_cancel_promote_reopen(
    client, django_capture_on_commit_callbacks
):
    person = verified()
    record_consent(person, "marketing", "email", True, "preferences")
    held, waiting = full_session_with_queue(person)
    assert sign_in(client, person).status_code == 302

    page = client.get("/profile/")
    assert "/profile/close/" in page.content.decode()
    confirm = client.get("/profile/close/").content.decode()
    assert "can no longer sign in" in confirm
    assert "training record" in confirm
    assert "reopen" in confirm

    refused = client.post("/profile/close/", {})
    assert refused.status_code == 200
    assert "govuk-error-summary" in refused.content.decode()
    assert 'href="#id_confirm"' in refused.content.decode()
    assert User.objects.get(pk=person.pk).is_active

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/profile/close/", {"confirm": "on"})
    assert done.status_code == 302
    assert done["Location"] == "/profile/closed/"
    closed_page = client.get(done["Location"])
    assert "This account is closed" in closed_page.content.decode()

    person.refresh_from_db()
    assert not person.is_active
    assert person.closed_at is not None
    # Signed out, and signing in again is refused with the clear page.
    assert client.get("/profile/")["Location"].startswith("/accounts/login/")
    again = sign_in(client, person)
    assert again["Location"] == "/profile/closed/"
    assert "_auth_user_id" not in client.session

    # The future place is cancelled, the next person waiting promoted.
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert held.status == Booking.Status.CANCELLED
    assert held.cancel_reason == "Withdrawn: account closed"
    assert waiting.status == Booking.Status.CONFIRMED
    # Marketing is withdrawn in the consent ledger.
    assert not can_contact(person, "email", "marketing")
    assert ConsentRecord.objects.filter(
        person=person, purpose="marketing", channel="email", granted=False
    ).exists()
    # One mail to the person: the closure, nothing about each booking.
    to_person = [m for m in mail.outbox if person.email in m.to]
    assert [m.subject for m in to_person] == ["Your account is closed"]
    assert not MailRecord.objects.filter(to=person.email, kind="cancelled").exists()
    # The training record is kept.
    assert Booking.objects.filter(person=person).exists()

    lead = dp_lead()
    with django_capture_on_commit_callbacks(execute=True):
        reopen_account(person, by=lead)
    person.refresh_from_db()
    assert person.is_active
    assert person.closed_at is None
    assert mail.outbox[-1].subject == "Your account has been reopened"
    assert sign_in(client, person).status_code == 302
    assert client.get("/profile/").status_code == 200
    # Marketing stays off until the person chooses again.
    assert not can_contact(person, "email", "marketing")
    assert {"account closure asked for", "account closed", "account reopened"} <= set(
        actions_for(person)
    )


# --- end to end: the data-protection lead closes after notice ---------------------


def test_staff_closure_notice_mail_then_nothing_until_the_notice_period(
    settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_CLOSURE_NOTICE_DAYS = 14
    person = verified()
    held, waiting = full_session_with_queue(person)
    lead = dp_lead()
    with django_capture_on_commit_callbacks(execute=True):
        closure = schedule_account_closure(
            person, reason="You restricted what a booking needs.", by=lead
        )
    notice = [m for m in mail.outbox if person.email in m.to]
    assert len(notice) == 1
    assert notice[0].subject == "We are going to close your account"
    assert "You restricted what a booking needs." in notice[0].body
    assert closure.takes_effect_at.date().strftime("%-d %B %Y") in notice[0].body
    # The reason is on the closure, not in the audit trail.
    assert "restricted what" not in " ".join(
        AuditEvent.objects.values_list("detail", flat=True)
    )

    # Before the notice period has run, nothing happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert close_due_accounts() == 0
    person.refresh_from_db()
    held.refresh_from_db()
    assert person.is_active
    assert person.closed_at is None
    assert held.status == Booking.Status.CONFIRMED

    # After it, the periodic task closes the account.
    AccountClosure.objects.filter(pk=closure.pk).update(
        takes_effect_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert close_due_accounts() == 1
        assert close_due_accounts() == 0  # safe to run twice
    person.refresh_from_db()
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert not person.is_active
    assert person.closed_at is not None
    assert held.status == Booking.Status.CANCELLED
    assert waiting.status == Booking.Status.CONFIRMED
    closed_mail = [m for m in mail.outbox if person.email in m.to][-1]
    assert closed_mail.subject == "Your account is closed"
    assert "You restricted what a booking needs." in closed_mail.body
    assert {"account closure scheduled", "account closed"} <= set(actions_for(person))
    assert (
        AuditEvent.objects.get(
            subject=f"user:{person.pk}", action="account closed"
        ).actor
        == lead
    )


def test_the_notice_period_runs_from_the_notice_mail(settings):
    """A notice whose task was lost is sent by the periodic run, and the
    person then has the whole notice period."""
    settings.ACCOUNT_CLOSURE_NOTICE_DAYS = 14
    person = verified()
    closure = schedule_account_closure(person, reason="Reason.", by=dp_lead())
    AccountClosure.objects.filter(pk=closure.pk).update(
        takes_effect_at=timezone.now() - dt.timedelta(days=1)
    )
    assert close_due_accounts() == 0  # the notice goes first
    closure.refresh_from_db()
    assert closure.notice_mailed_at is not None
    assert closure.takes_effect_at > timezone.now() + dt.timedelta(days=13)
    assert User.objects.get(pk=person.pk).is_active


def test_a_scheduled_closure_can_be_withdrawn_and_the_person_is_told(
    django_capture_on_commit_callbacks,
):
    person = verified()
    lead = dp_lead()
    with django_capture_on_commit_callbacks(execute=True):
        closure = schedule_account_closure(person, reason="Reason.", by=lead)
        cancel_scheduled_closure(person, by=lead)
    AccountClosure.objects.filter(pk=closure.pk).update(
        takes_effect_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert close_due_accounts() == 0
    assert User.objects.get(pk=person.pk).is_active
    assert mail.outbox[-1].subject == "We will not close your account"
    # A new closure may then be scheduled.
    schedule_account_closure(person, reason="Again.", by=lead)


# --- rules ------------------------------------------------------------------------


def test_closing_twice_closes_once_and_mails_once(django_capture_on_commit_callbacks):
    person = verified()
    with django_capture_on_commit_callbacks(execute=True):
        closure = close_own_account(person)
    with pytest.raises(AccountsError, match="already closed"):
        close_own_account(person)
    assert AccountClosure.objects.filter(person=person).count() == 1
    assert len([m for m in mail.outbox if person.email in m.to]) == 1
    # The mail task run again (at-least-once delivery) sends nothing.
    assert send_closure_mail(closure.pk, "closed") is False
    assert len(mail.outbox) == 1


def test_staff_closure_needs_the_data_protection_lead_and_a_reason():
    person = verified()
    officer = UserFactory.create(is_staff=True)
    with pytest.raises(AccountsError, match="data-protection lead"):
        schedule_account_closure(person, reason="Reason.", by=officer)
    with pytest.raises(AccountsError, match="reason"):
        schedule_account_closure(person, reason="   ", by=dp_lead())
    assert not AccountClosure.objects.exists()


def test_staff_closure_refuses_a_second_one_and_staff_accounts():
    person = verified()
    lead = dp_lead()
    schedule_account_closure(person, reason="Reason.", by=lead)
    with pytest.raises(AccountsError, match="already scheduled"):
        schedule_account_closure(person, reason="Reason.", by=lead)
    with pytest.raises(AccountsError, match="staff account"):
        schedule_account_closure(
            UserFactory.create(is_staff=True), reason="Reason.", by=lead
        )


def test_reopening_needs_a_closed_account_within_the_retention_period(settings):
    lead = dp_lead()
    open_one = verified()
    with pytest.raises(AccountsError, match="not closed"):
        reopen_account(open_one, by=lead)
    person = verified()
    close_own_account(person)
    User.objects.filter(pk=person.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=365 * 7)
    )
    person.refresh_from_db()
    with pytest.raises(AccountsError, match="too long ago"):
        reopen_account(person, by=lead)


def test_closed_accounts_are_erased_after_the_retention_period():
    from privacy.services import apply_retention

    person = verified()
    recent = verified()
    close_own_account(person)
    close_own_account(recent)
    User.objects.filter(pk=person.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=365 * 7)
    )
    assert apply_retention()["closed accounts"] == 1
    assert User.objects.get(pk=person.pk).erased_at is not None
    assert User.objects.get(pk=recent.pk).erased_at is None


def test_mail_still_waiting_for_a_closed_account_is_cancelled_and_none_is_queued():
    person = verified()
    booking = BookingFactory.create(person=person)
    pending = MailRecord.objects.create(
        key="t-1", kind="reminder", to=person.email, booking=booking
    )
    close_own_account(person)
    pending.refresh_from_db()
    assert pending.status == MailRecord.Status.CANCELLED
    assert pending.to == person.email  # kept: the account may be reopened
    assert outbox.refuses(person.email)


def test_a_closed_person_cannot_be_booked_or_promoted():
    from bookings.services import BookingError, book_session

    person = verified()
    close_own_account(person)
    with pytest.raises(BookingError):
        book_session(User.objects.get(pk=person.pk), SessionFactory.create())


def test_closure_is_in_the_export_and_its_reason_is_erased():
    from privacy.registry import categories

    person = verified()
    schedule_account_closure(person, reason="Because of X.", by=dp_lead())
    category = next(c for c in categories() if c.name == "account_closures")
    assert category.export(person)[0]["reason"] == "Because of X."
    category.erase(person)
    assert AccountClosure.objects.get(person=person).reason == ""


# --- the back office ---------------------------------------------------------------


def staff_client(user: User) -> Client:
    give_totp(user)
    client = Client()
    client.force_login(user)
    return client


def test_admin_action_asks_for_the_reason_then_schedules_once(
    django_capture_on_commit_callbacks,
):
    person = verified()
    client = staff_client(dp_lead())
    url = "/admin/accounts/user/"
    base = {"action": "schedule_closure", "_selected_action": [str(person.pk)]}
    page = client.post(url, base)
    assert page.status_code == 200
    assert "Why must the account be closed?" in page.content.decode()
    empty = client.post(url, {**base, "confirm": "yes", "reason": ""})
    assert "Give the reason" in empty.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**base, "confirm": "yes", "reason": "Choices."})
        again = client.post(url, {**base, "confirm": "yes", "reason": "Choices."})
    assert done.status_code == 302
    assert again.status_code == 302
    assert AccountClosure.objects.filter(person=person).count() == 1
    assert len([m for m in mail.outbox if person.email in m.to]) == 1


def test_admin_reopen_action(django_capture_on_commit_callbacks):
    person = verified()
    close_own_account(person)
    client = staff_client(dp_lead())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/",
            {"action": "reopen", "_selected_action": [str(person.pk)]},
        )
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).is_active


def test_a_booking_admin_is_not_offered_closure_actions():
    officer = UserFactory.create(is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    page = staff_client(officer).get("/admin/accounts/user/")
    assert "schedule_closure" not in page.content.decode()


def test_a_staff_account_is_not_closed_from_the_learner_page(client):
    officer = verified(is_staff=True)
    client.force_login(officer)
    response = client.post("/profile/close/", {"confirm": "on"})
    assert response["Location"] == "/profile/"
    assert User.objects.get(pk=officer.pk).is_active
    assert not AccountClosure.objects.exists()


def test_a_closed_or_reopened_mail_whose_task_was_lost_is_sent_by_the_sweep_once(
    settings,
):
    """The broker was down when the person closed their account (no task ran)
    and again when staff reopened it: the hourly sweep sends each mail once,
    from five minutes after the step until the outbox horizon."""
    person, lead = verified(), dp_lead()
    close_own_account(person)  # on_commit never runs here: the task is "lost"
    reopen_account(person, by=lead)
    assert mail.outbox == []
    close_due_accounts()
    assert mail.outbox == []  # too soon: the task may still be on its way
    closure = AccountClosure.objects.get(person=person)
    five_minutes_ago = timezone.now() - dt.timedelta(minutes=6)
    AccountClosure.objects.filter(pk=closure.pk).update(
        closed_at=five_minutes_ago, reopened_at=five_minutes_ago
    )
    close_due_accounts()
    close_due_accounts()
    assert sorted(m.subject for m in mail.outbox) == [
        "Your account has been reopened",
        "Your account is closed",
    ]
    assert all(m.to == [person.email] for m in mail.outbox)
    # Past the horizon nothing more is tried (a new step, never mailed).
    mail.outbox = []
    gone = verified()
    close_own_account(gone)
    AccountClosure.objects.filter(person=gone).update(
        closed_at=timezone.now() - outbox.retry_horizon() - dt.timedelta(hours=1)
    )
    close_due_accounts()
    assert mail.outbox == []
