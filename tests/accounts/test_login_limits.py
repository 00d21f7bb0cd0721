"""Failed sign-ins are limited per account and, loosely, per client address.

A school or NHS network puts everyone behind one address: one person's five
wrong passwords must lock that person's account only. The address comes from
REMOTE_ADDR unless TRUSTED_PROXY_COUNT says how many proxies append to
X-Forwarded-For, so a client cannot dodge the per-address limit with the header.
"""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOCKED = "You have tried to sign in too many times"


def person():
    user = UserFactory.create()
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=True
    )
    return user


def sign_in(client, user, password, **headers):
    return client.post(
        "/accounts/login/",
        {"login": user.email, "password": password},
        headers=headers,
    )


def signed_in(response) -> bool:
    return (
        response.status_code == 302 and "/accounts/login/" not in response["Location"]
    )


def test_five_wrong_passwords_lock_that_account_and_no_other_behind_the_address():
    ada, grace = person(), person()
    building = Client(REMOTE_ADDR="10.1.2.3")
    for _ in range(5):
        assert LOCKED not in sign_in(building, ada, "wrong").content.decode()

    refused = sign_in(building, ada, PASSWORD)
    assert LOCKED in refused.content.decode()
    assert not signed_in(refused)
    # Another person at the same school signs in at once.
    assert signed_in(sign_in(Client(REMOTE_ADDR="10.1.2.3"), grace, PASSWORD))


def test_the_account_stays_locked_from_another_address():
    ada = person()
    for _ in range(5):
        sign_in(Client(REMOTE_ADDR="10.1.2.3"), ada, "wrong")
    elsewhere = sign_in(Client(REMOTE_ADDR="192.0.2.9"), ada, PASSWORD)
    assert LOCKED in elsewhere.content.decode()


def test_many_failures_across_accounts_from_one_address_lock_the_address(settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "3/5m/ip,5/5m/key",
    }
    people = [person() for _ in range(4)]
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for someone in people[:3]:
        assert LOCKED not in sign_in(attacker, someone, "wrong").content.decode()
    assert LOCKED in sign_in(attacker, people[3], "wrong").content.decode()
    # The accounts themselves are not locked for their owners elsewhere.
    assert signed_in(sign_in(Client(REMOTE_ADDR="10.9.9.9"), people[0], PASSWORD))


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "3/5m/ip,5/5m/key",
    }
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    people = [person() for _ in range(4)]
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n, someone in enumerate(people[:3]):
        sign_in(attacker, someone, "wrong", x_forwarded_for=f"198.51.100.{n}")
    # A made-up header per attempt does not make a new client.
    forged = sign_in(attacker, people[3], "wrong", x_forwarded_for="198.51.100.99")
    assert LOCKED in forged.content.decode()


def test_behind_a_trusted_proxy_each_client_address_counts_apart(settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "3/5m/ip,5/5m/key",
    }
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    people = [person() for _ in range(4)]
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for someone in people[:3]:
        sign_in(proxy, someone, "wrong", x_forwarded_for="198.51.100.1")
    # The busy client is locked out ...
    assert (
        LOCKED
        in sign_in(
            proxy, people[3], "wrong", x_forwarded_for="198.51.100.1"
        ).content.decode()
    )
    # ... and everyone else coming through the same proxy is not.
    assert signed_in(
        sign_in(proxy, people[3], PASSWORD, x_forwarded_for="198.51.100.2")
    )
