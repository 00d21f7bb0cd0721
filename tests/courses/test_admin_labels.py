"""Django admin's "Add course" page names every input of its session rows and
of its date-and-time fields (the browser sweep, tests/e2e/test_accessibility_e2e,
runs axe on it; this says what a screen reader hears, fast)."""

import re

import pytest

from accounts import roles
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db


def labels(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for target, text in re.findall(
        r'<label[^>]*for="([^"]+)"[^>]*>([^<]*)</label>', html
    ):
        found.setdefault(target, []).append(text.strip())
    return found


def test_each_input_of_a_session_row_has_a_label_naming_its_column_and_row():
    html = staff_client(roles.COURSE_ADMINS).get("/admin/courses/course/add/")
    named = labels(html.content.decode())

    assert named["id_sessions-0-starts_at_0"] == ["Starts at, row 1", "Date:"]
    assert named["id_sessions-0-starts_at_1"] == ["Starts at, row 1", "Time:"]
    assert named["id_sessions-0-capacity"] == ["Places, row 1"]
    # the hidden row "Add another" copies
    assert named["id_sessions-__prefix__-venue"] == ["Venue, new row"]


def test_the_date_and_time_of_a_session_are_labelled():
    html = staff_client(roles.COURSE_ADMINS).get("/admin/courses/session/add/")
    named = labels(html.content.decode())

    assert named["id_starts_at_0"] == ["Date:"]
    assert named["id_starts_at_1"] == ["Time:"]
    assert 'href="/static/css/admin-overrides.css"' in html.content.decode()
