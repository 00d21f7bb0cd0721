import pytest
from django import forms

from accounts.models import Profile
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/unsubscribe/abc%00def/",
        "/my-data/exports/abc%00def/",
        "/funding/support/abc%00def/",
        "/certificates/abc%00def/",
        "/courses/abc%01def/",
        "/courses/abc%0Adef/",
    ],
)
def test_a_control_character_in_the_path_is_a_clear_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The web address contains a character it cannot contain." in html
    assert "\x00" not in html


@pytest.mark.parametrize(
    "query",
    [{"q": "a\x00b"}, {"page": "\x00"}, {"q\x00": "x"}, {"topic": "a\x1bb"}],
)
def test_a_control_character_in_the_query_string_is_a_clear_400(client, query):
    response = client.get("/courses/", query)
    assert response.status_code == 400
    assert "cannot contain" in response.content.decode()


def test_a_huge_query_string_is_refused_with_a_message_not_searched(
    client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(0):
        response = client.get("/courses/", {"q": "a" * 100_000})
    assert response.status_code == 400
    assert "The web address is too long" in response.content.decode()


def test_an_ordinary_search_still_works(client):
    response = client.get("/courses/", {"q": "safeguarding", "page": "1"})
    assert response.status_code == 200


def test_a_nul_in_a_form_value_is_a_clear_400_and_saves_nothing(client):
    person = UserFactory.create()
    client.force_login(person)
    response = client.post(
        "/profile/edit/",
        {"first_name": "Ada\x00", "last_name": "Lovelace", "job_title": "Nurse"},
    )
    assert response.status_code == 400
    assert "such as a NUL" in response.content.decode()
    person.refresh_from_db()
    assert "\x00" not in person.first_name
    assert not Profile.objects.filter(user=person, job_title="Nurse").exists()


def test_line_breaks_and_tabs_in_a_form_value_are_still_accepted(client):
    # A textarea sends them; the middleware must let them through to the form.
    response = client.post("/cookies/", {"analytics": "reject\r\n\t"})
    assert response.status_code == 302


def test_form_char_fields_keep_refusing_nul():
    class Sample(forms.Form):
        name = forms.CharField(max_length=10)

    form = Sample({"name": "a\x00b"})
    assert not form.is_valid()
    assert "Null characters are not allowed." in form.errors["name"][0]
