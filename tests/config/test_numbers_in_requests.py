"""Every number read from a request goes through config.numbers.parse_int:
characters `str.isdigit()` accepts but `int()` refuses never reach `int()`."""

import pathlib
import re
from decimal import Decimal

import pytest

from funding import services
from tests.funding.conftest import officer, submit  # noqa: F401
from tests.funding.factories import FundingRequestFactory, FundingRoundFactory

HOSTILE_NUMBERS = ["²", "①", "٣", "3²", "-1", "0", "1e3", "9" * 40, "NaN"]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
def test_catalogue_page_and_per_page_refuse_odd_digits_with_a_message(client, raw):
    response = client.get("/courses/", {"page": raw})
    assert response.status_code == 200
    if raw != "0" and raw != "-1":
        assert "showing the first page" in response.content.decode()
    response = client.get("/courses/", {"per_page": raw})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
def test_funding_queues_read_the_page_number_safely(officer, raw):  # noqa: F811
    assert officer.get("/staff/funding/", {"page": raw}).status_code == 200


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e999", "sNaN"])
def test_panel_refuses_amounts_that_are_not_money_with_a_message(
    submit,  # noqa: F811
    officer,  # noqa: F811
    amount,
):
    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("9000"))
    row, token = submit(FundingRequestFactory.create(round=funding_round))
    services.record_manager_support(token, supported=True, statement="Yes")
    url = f"/staff/funding/rounds/{funding_round.pk}/panel/"
    response = officer.post(
        url, {f"decision-{row.pk}": "approve", f"amount-{row.pk}": amount}
    )
    assert response.status_code == 400
    assert "enter the amount approved in pounds" in response.content.decode()
    row.refresh_from_db()
    assert row.status != "approved"


# The helper itself; mutation testing's copy of the code (mutants/) is not ours.
_OWNED_ELSEWHERE = {"config/numbers.py"}


def test_no_hand_rolled_number_parsing_in_the_project_apps():
    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\.isdigit\(\)|\.isnumeric\(\)|\.isdecimal\(\)")
    offenders = [
        str(path.relative_to(root))
        for path in sorted(root.glob("*/**/*.py"))
        if path.parts[len(root.parts)]
        not in {".venv", "node_modules", "tests", "mutants"}
        and "migrations" not in path.parts
        and str(path.relative_to(root)) not in _OWNED_ELSEWHERE
        and pattern.search(path.read_text())
    ]
    assert offenders == []
