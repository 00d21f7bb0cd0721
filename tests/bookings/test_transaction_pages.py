"""The transaction history shows twenty entries at a time, newest first, so
the page costs the same however long a person's statement grows; each
entry's running total and the balance still count the whole statement."""

from decimal import Decimal

import pytest

from accounts.models import Organisation
from bookings.models import Transaction
from config.paging import PER_PAGE as PAST_PER_PAGE

pytestmark = pytest.mark.django_db


def _entries(person, n: int, **extra) -> list[Transaction]:
    """n charges of £1, £2, … in that order (the oldest first)."""
    return [
        Transaction.objects.create(
            person=person,
            kind="charge",
            amount=Decimal(i + 1),
            description=f"Entry number {i + 1:02d}",
            **extra,
        )
        for i in range(n)
    ]


def _shown(response) -> list[tuple[str, Decimal]]:
    return [(t.description, t.balance) for t in response.context["entries"]]


def test_the_statement_comes_twenty_at_a_time_newest_first(learner_client):
    _entries(learner_client.user, PAST_PER_PAGE + 5)
    # 1 + 2 + … + n
    total = lambda n: Decimal(n * (n + 1) // 2)  # noqa: E731

    first = learner_client.get("/transactions/")
    assert _shown(first) == [
        (f"Entry number {n:02d}", total(n)) for n in range(PAST_PER_PAGE + 5, 5, -1)
    ]
    html = first.content.decode()
    assert html.index("Entry number 25") < html.index("Entry number 24")
    assert "Entry number 05" not in html
    assert 'href="?entries=2#entries" rel="next"' in html
    assert 'rel="prev"' not in html
    assert "Balance owed: £325.00" in html

    older = learner_client.get("/transactions/?entries=2")
    # The running totals go on from where the first page left off.
    assert _shown(older) == [
        (f"Entry number {n:02d}", total(n)) for n in range(5, 0, -1)
    ]
    html = older.content.decode()
    assert 'href="?entries=1#entries" rel="prev"' in html
    assert 'rel="next"' not in html
    # The balance is the whole statement's on every page.
    assert "Balance owed: £325.00" in html


def test_a_page_past_the_end_or_not_a_number_shows_a_real_page(learner_client):
    _entries(learner_client.user, PAST_PER_PAGE + 1)
    beyond = learner_client.get("/transactions/?entries=9")
    assert _shown(beyond) == [("Entry number 01", Decimal("1"))]
    assert 'aria-current="page">Page 2</a>' in beyond.content.decode()
    for odd in ("²", "0", "-1", "x", "9" * 40):
        page = learner_client.get("/transactions/", {"entries": odd})
        assert page.status_code == 200
        assert _shown(page)[0][0] == f"Entry number {PAST_PER_PAGE + 1:02d}"


def test_a_short_statement_has_no_pages(learner_client):
    _entries(learner_client.user, 3)
    html = learner_client.get("/transactions/").content.decode()
    assert "Entry number 01" in html
    assert "Entry number 03" in html
    assert "govuk-pagination" not in html


def test_places_charged_to_an_organisation_are_counted_apart_on_every_page(
    learner_client,
):
    organisation = Organisation.objects.create(name="Riverside Trust")
    _entries(learner_client.user, 2)  # £3 own
    _entries(learner_client.user, PAST_PER_PAGE, organisation=organisation)
    for page in ("1", "2"):
        html = learner_client.get("/transactions/", {"entries": page}).content.decode()
        assert "Balance owed: £3.00" in html
        assert "are paid by it and are not in your balance" in html


def test_no_one_sees_another_persons_statement(learner_client):
    from tests.accounts.factories import UserFactory

    _entries(UserFactory.create(), 3)
    response = learner_client.get("/transactions/")
    assert _shown(response) == []
    assert "You have no transactions." in response.content.decode()
