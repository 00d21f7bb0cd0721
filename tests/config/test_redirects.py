import pytest
from django.test import RequestFactory

from config.redirects import safe_next_path, safe_redirect
from consent import selectors
from consent.models import ConsentRecord
from tests.accounts.factories import UserFactory


@pytest.mark.parametrize(
    "raw", ["/courses/", "/courses/?q=safe&page=2", "/cookies/#choices", "/"]
)
def test_keeps_a_path_on_this_site(raw):
    request = RequestFactory().get("/")
    assert safe_next_path(request, raw, fallback="/x/") == raw


@pytest.mark.parametrize(
    "raw",
    [
        "foo",  # a bare word, which redirect() would take for a view name
        "consent:cookies",
        "courses/",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/courses/\x00",
        "/courses/\r\nSet-Cookie: a=b",
        " /courses/",
        "",
        None,
        ["/courses/"],
        "/" + "a" * 5000,
    ],
)
def test_refuses_anything_but_a_path_on_this_site(raw):
    request = RequestFactory().get("/")
    assert safe_next_path(request, raw, fallback="/x/") == "/x/"
    assert safe_redirect(request, raw, fallback="/x/")["Location"] == "/x/"


@pytest.mark.django_db
@pytest.mark.usefixtures("first_policies")
@pytest.mark.parametrize(
    "bad_next", ["foo", "consent:cookies", "https://evil.example/"]
)
def test_a_bad_next_on_the_cookie_form_still_saves_the_choice_and_its_cookie_together(
    client, bad_next
):
    person = UserFactory.create()
    client.force_login(person)
    response = client.post("/cookies/", {"analytics": "accept", "next": bad_next})
    assert response.status_code == 302
    assert response["Location"] == "/cookies/"
    # The ledger and the cookie agree.
    assert response.cookies["cookie_choice"].value == "accepted"
    assert selectors.can_contact(person, "web", "analytics")
    assert ConsentRecord.objects.filter(person=person).count() == 1


def test_no_view_redirects_to_a_user_supplied_target_without_the_helper():
    """Every view that reads `next` (or any target from the request) goes
    through config.redirects: a grep over the project apps."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    pattern = re.compile(
        r"(redirect|HttpResponseRedirect)\(\s*request\.(GET|POST|META|headers)"
        r"|(GET|POST)\.get\(\s*[\"'](next|return_to|redirect_to|back)[\"']"
    )
    for path in root.glob("*/*.py"):
        if path.parts[-2] in {".venv", "node_modules", "tests", "mutants"}:
            continue
        text = path.read_text()
        for match in pattern.finditer(text):
            line = text[: match.start()].count("\n") + 1
            start = text.rfind("\n", 0, match.start()) + 1
            window = text[start : match.end() + 100]
            if "safe_next_path" not in window and "safe_redirect" not in window:
                offenders.append(f"{path.relative_to(root)}:{line}")
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ("/courses/", "/courses/"),
        ("foo", "/"),
        ("consent:cookies", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
    ],
)
def test_signing_in_follows_next_only_to_a_path_on_this_site(
    client, verified_user, raw, location
):
    # Not their first sign-in, which would go on to "Complete your profile"
    # when there is no (safe) next.
    verified_user.last_login = verified_user.date_joined
    verified_user.save(update_fields=["last_login"])
    response = client.post(
        "/accounts/login/",
        {
            "login": verified_user.email,
            "password": "correct-horse-battery",
            "next": raw,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == location
