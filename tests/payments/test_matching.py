"""Statement matching: exact, mistyped, ambiguous and repeated references;
uploading the same statement again matches nothing twice."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from bookings import services as booking_services
from bookings.models import Transaction
from payments import services
from payments.models import StatementLine
from payments.statements import StatementError, fingerprints, parse_csv, parse_mt940
from tests.accounts.factories import OrganisationFactory, UserFactory

from .helpers import line, owes, reference, statement

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
S = StatementLine.Status
W = StatementLine.Why


def _upload(parsed, name="statement.sta"):
    staff = UserFactory.create(is_staff=True)
    return services.upload_statement(parsed, filename=name, format="mt940", by=staff)


def _payments():
    return Transaction.objects.filter(kind=Transaction.Kind.PAYMENT)


def test_the_mt940_sample_is_read_with_dates_amounts_ids_and_descriptions():
    parsed = parse_mt940((FILES / "statement.mt940").read_bytes())
    assert parsed.account == "20-00-00/12345678"
    assert len(parsed.lines) == 6
    first = parsed.lines[0]
    assert first.booked_on == dt.date(2026, 11, 27)
    assert first.amount == Decimal("25.00")
    assert first.bank_id == "BT0001"
    assert "CPD-4K7QM-D" in first.description
    assert parsed.lines[-1].amount == Decimal("-12.50")


def test_a_file_that_is_not_mt940_is_a_clear_error():
    with pytest.raises(StatementError):
        parse_mt940(b"Date,Amount\n2026-11-01,25\n")


def test_the_sample_statement_has_each_outcome_and_a_second_upload_matches_nothing():
    smith = reference("4K7QM")
    owes(smith.person, "40.00")
    reference("9WXYZ")
    reference("H2J3K")
    parsed = parse_mt940((FILES / "statement.mt940").read_bytes())

    _first, counts = _upload(parsed)

    lines = {ln.bank_id: ln for ln in StatementLine.objects.all()}
    assert lines["BT0001"].status == S.MATCHED  # exact
    assert lines["BT0001"].reference == smith
    assert lines["BT0002"].status == S.WAITING  # check character mistyped
    assert lines["BT0002"].waiting_because == W.MISTYPED
    assert lines["BT0003"].waiting_because == W.SEVERAL  # two references
    assert lines["BT0004"].status == S.MATCHED  # the same reference twice
    assert lines["BT0004"].reference == smith
    assert lines["BT0005"].waiting_because == W.NONE
    assert lines["BT0006"].status == S.MONEY_OUT
    assert counts == {
        "repeated": 0,
        S.MATCHED: 2,
        S.WAITING: 3,
        S.RESOLVED: 0,
        S.IGNORED: 0,
        S.MONEY_OUT: 1,
    }
    paid = _payments().get(statement_line=lines["BT0001"])
    assert paid.person == smith.person
    assert paid.amount == Decimal("-25.00")
    assert paid.means == Transaction.Means.BANK_TRANSFER
    assert paid.provider_reference == lines["BT0001"].fingerprint
    assert services.balance_of(smith) == Decimal("0.00")
    assert not lines["BT0004"].overpaid

    second, counts = _upload(parsed)

    assert counts["repeated"] == 6
    assert second.lines_new == 0
    assert StatementLine.objects.count() == 6
    assert _payments().count() == 2
    assert services.balance_of(smith) == Decimal("0.00")


def test_two_alike_payments_in_one_file_are_two_lines_and_stay_two_on_reupload():
    smith = reference("4K7QM")
    same = line("J SMITH CPD-4K7QM-D")
    parsed = statement(same, same)
    _upload(parsed)
    _upload(parsed)
    assert StatementLine.objects.count() == 2
    assert _payments().filter(person=smith.person).count() == 2


def test_a_valid_but_unknown_reference_waits():
    parsed = statement(line("CPD-ABCDE-9"))
    _upload(parsed)
    assert StatementLine.objects.get().waiting_because == W.UNKNOWN


def test_a_mistyped_reference_never_pays_the_reference_it_resembles():
    smith = reference("4K7QM")
    # One character wrong in the body, check character unchanged.
    _upload(statement(line("CPD-4K7QN-D")))
    assert StatementLine.objects.get().waiting_because == W.MISTYPED
    assert not _payments().filter(person=smith.person).exists()


def test_an_overpayment_is_recorded_and_flagged_for_review():
    smith = reference("4K7QM")
    owes(smith.person, "10.00")
    _upload(statement(line("CPD-4K7QM-D", "25.00")))
    matched = StatementLine.objects.get()
    assert matched.status == S.MATCHED
    assert matched.overpaid
    assert services.balance_of(smith) == Decimal("-15.00")


def test_an_organisations_reference_pays_its_account():
    org = OrganisationFactory.create()
    ref = reference("H2J3K", organisation=org)
    _upload(statement(line("WESTMOOR PRIMARY CPD-H2J3K-J", "50")))
    paid = _payments().get()
    assert paid.organisation == org
    assert paid.person is None
    assert services.balance_of(ref) == Decimal("-50")


def test_staff_resolve_a_waiting_line_by_choosing_the_payer():
    smith = reference("4K7QM")
    owes(smith.person, "25")
    _upload(statement(line("A PATEL TRAINING")))
    waiting = StatementLine.objects.get()
    staff = UserFactory.create(is_staff=True)
    someone = UserFactory.create()

    resolved = services.resolve_statement_line(
        waiting, person=someone, note="Phoned", by=staff
    )

    assert resolved.status == S.RESOLVED
    assert resolved.decided_by == staff
    assert resolved.transaction.person == someone
    assert resolved.transaction.means == Transaction.Means.BANK_TRANSFER
    assert resolved.reference.person == someone  # made for them
    assert resolved.overpaid  # they owed nothing
    with pytest.raises(services.PaymentsError):
        services.resolve_statement_line(waiting, person=someone, by=staff)
    assert _payments().count() == 1


def test_staff_mark_a_line_as_not_ours_with_a_reason():
    _upload(statement(line("TRANSFER FROM RESERVE ACCOUNT")))
    waiting = StatementLine.objects.get()
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(services.PaymentsError):
        services.ignore_statement_line(waiting, reason=" ", by=staff)
    services.ignore_statement_line(waiting, reason="Our own transfer", by=staff)
    waiting.refresh_from_db()
    assert waiting.status == S.IGNORED
    assert waiting.note == "Our own transfer"
    assert not _payments().exists()


def test_the_database_refuses_a_provider_reference_recorded_twice():
    person = UserFactory.create()
    kwargs = {
        "person": person,
        "organisation": None,
        "kind": Transaction.Kind.PAYMENT,
        "amount": Decimal("5"),
        "description": "Bank transfer received",
        "by": None,
        "means": Transaction.Means.BANK_TRANSFER,
        "provider_reference": "abc",
    }
    booking_services.record_ledger_entry(**kwargs)
    with pytest.raises(IntegrityError), transaction.atomic():
        booking_services.record_ledger_entry(**kwargs)


def test_staff_payments_say_how_they_were_made():
    entry = booking_services.record_ledger_entry(
        person=UserFactory.create(),
        organisation=None,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal("5"),
        description="Cheque",
        by=UserFactory.create(is_staff=True),
    )
    assert entry.means == Transaction.Means.STAFF


def test_fingerprints_prefer_the_banks_id_and_are_stable():
    parsed = statement(line("X", bank_id="B1"), line("Y"), line("Y"))
    first = fingerprints(parsed)
    assert first == fingerprints(parsed)
    assert len(set(first)) == 3


CSV = b"Date,Paid in,Details,Txn\n27/11/2026,25.00,J SMITH CPD-4K7QM-D,T1\n"


def test_csv_with_a_column_mapping_is_read():
    parsed = parse_csv(
        CSV,
        date_column="Date",
        amount_column="Paid in",
        description_column="Details",
        bank_id_column="Txn",
    )
    assert parsed.lines[0].amount == Decimal("25.00")
    assert parsed.lines[0].booked_on == dt.date(2026, 11, 27)
    assert parsed.lines[0].bank_id == "T1"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"amount_column": "Amount"}, 'no column "Amount". Its columns are'),
        ({"amount_column": "Txn"}, "is not an amount"),
        ({"date_column": "Txn"}, "is not a date"),
        ({"description_column": "Date"}, "different column"),
    ],
)
def test_a_bad_column_choice_is_a_clear_error(mapping, message):
    chosen = {
        "date_column": "Date",
        "amount_column": "Paid in",
        "description_column": "Details",
        **mapping,
    }
    with pytest.raises(StatementError, match=message):
        parse_csv(CSV, **chosen)
