"""The ledger is append-only at every level: the row, the queryset, the admin
and the database itself (raw SQL included). Corrections are new entries."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from bookings.models import Transaction
from privacy import services as privacy_services
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    return Transaction.objects.create(
        person=UserFactory.create(),
        kind="charge",
        amount=Decimal("40.00"),
        description="Place on a course",
        created_by=UserFactory.create(is_staff=True),
    )


def _unchanged(entry):
    row = Transaction.objects.values("amount", "kind", "person_id").get(pk=entry.pk)
    assert row == {
        "amount": Decimal("40.00"),
        "kind": "charge",
        "person_id": entry.person_id,
    }


def test_an_entry_cannot_be_saved_again_or_deleted(entry):
    entry.amount = 1
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="never deleted"):
        entry.delete()
    _unchanged(entry)


def test_the_queryset_refuses_update_delete_and_bulk_update(entry):
    with pytest.raises(ValueError, match="append-only"):
        Transaction.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(ValueError, match="never deleted"):
        Transaction.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ValueError, match="append-only"):
        Transaction.objects.all().delete()
    entry.amount = Decimal("0")
    # bulk_update joins the outer transaction (no savepoint), so give it one.
    with pytest.raises(ValueError, match="append-only"), transaction.atomic():
        Transaction.objects.bulk_update([entry], ["amount"])
    _unchanged(entry)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE bookings_transaction SET amount = 0 WHERE id = %s",
        "UPDATE bookings_transaction SET person_id = NULL WHERE id = %s",
        "UPDATE bookings_transaction SET description = 'edited' WHERE id = %s",
        # Clearing who recorded it is allowed only with nothing else changing.
        "UPDATE bookings_transaction SET created_by_id = NULL, amount = 0 WHERE id = %s",
        "DELETE FROM bookings_transaction WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_updates_and_deletes(entry, sql):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    _unchanged(entry)


def test_the_database_refuses_the_orm_without_our_queryset(entry):
    # The base manager is a plain QuerySet; only the trigger stands in the way.
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transaction._base_manager.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transaction._base_manager.filter(pk=entry.pk)._raw_delete(connection.alias)
    _unchanged(entry)


def test_deleting_the_staff_account_that_recorded_an_entry_keeps_the_entry(entry):
    entry.created_by.delete()  # SET_NULL: the one update the trigger allows
    _unchanged(entry)
    assert Transaction.objects.get(pk=entry.pk).created_by is None


def test_erasure_keeps_amounts_and_dates_against_the_anonymised_account(
    entry, first_policies
):
    person = entry.person
    email, created_at = person.email, entry.created_at
    privacy_services.erase_person(person)
    privacy_services.erase_person(person)  # twice is harmless
    person.refresh_from_db()
    assert person.email != email  # anonymised, the row kept
    kept = Transaction.objects.get(pk=entry.pk)
    assert (kept.person_id, kept.amount, kept.created_at) == (
        person.pk,
        Decimal("40.00"),
        created_at,
    )


def test_admin_offers_no_way_to_change_or_delete_an_entry(entry):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    base = f"/admin/bookings/transaction/{entry.pk}"
    page = client.get(f"{base}/change/").content.decode()
    assert 'name="_save"' not in page
    assert 'name="amount"' not in page
    assert client.post(f"{base}/change/", {"amount": "0"}).status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    changelist = client.get("/admin/bookings/transaction/").content.decode()
    assert "delete_selected" not in changelist
    client.post(
        "/admin/bookings/transaction/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    _unchanged(entry)
