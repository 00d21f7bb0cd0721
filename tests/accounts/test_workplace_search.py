"""Choosing a workplace among thousands: past `WORKPLACES_LISTED` the sign-up,
"Complete your profile" and "Edit your details" forms stop sending a
drop-down of every workplace and offer a search instead. A name typed in
full chooses the workplace; part of one brings the form back with those
found as radio buttons; nothing found says so, and where a new workplace may
be named, says that too. No JavaScript is needed for any of it."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import forms
from accounts.models import Membership, Organisation, Profile
from tests.accounts.factories import OrganisationFactory, verified_person
from tests.accounts.test_membership import PROFILE

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


def many_workplaces(n: int = forms.WORKPLACES_LISTED + 1) -> None:
    Organisation.objects.bulk_create(
        Organisation(name=f"Greenfield School {i:04d}") for i in range(n)
    )


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def options(html: str) -> int:
    return html.count("<option")


def radios(html: str, name: str = "organisation") -> list[str]:
    """The labels of the radio buttons named `name`, in order."""
    ids = re.findall(
        rf'<input type="radio" name="{name}" value="[^"]*"[^>]* id="([^"]+)"', html
    )
    return [
        re.search(rf'<label[^>]*for="{i}">([^<]*)</label>', html).group(1).strip()
        for i in ids
    ]


def sign_up_with(search: str) -> dict[str, str]:
    return {
        "first_name": "Sam",
        "last_name": "Signup",
        "email": "sam@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "workplace_search": search,
    }


def shown(html: str) -> dict[str, str]:
    """The hidden field naming the search whose results the page shows, as
    the browser would send it back."""
    value = re.search(r'name="workplace_shown" value="([^"]*)"', html)
    return {"workplace_shown": unescape(value.group(1))} if value else {}


def test_a_few_workplaces_are_a_drop_down_and_many_are_a_search(client):
    OrganisationFactory.create(name="Hillside Primary")
    page = client.get("/accounts/signup/").content.decode()
    assert '<select name="organisation"' in page
    assert ">Hillside Primary</option>" in page
    assert 'name="workplace_search"' not in page

    many_workplaces()
    page = client.get("/accounts/signup/").content.decode()
    assert '<select name="organisation"' not in page
    assert "Greenfield School" not in page
    assert (
        '<label class="govuk-label govuk-label--s" for="id_workplace_search">Find your workplace (optional)</label>'
        in page
    )
    assert 'autocomplete="organization"' in page


def test_the_page_costs_the_same_with_hundreds_or_thousands_of_workplaces():
    many_workplaces()
    person = verified_person()
    client = signed_in(person)

    def edit_page():
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/profile/edit/").content.decode()
        return len(queries), len(html)

    edit_page()  # the first visit also loads what is cached after it
    fewer = edit_page()
    Organisation.objects.bulk_create(
        Organisation(name=f"Brookside Surgery {i:04d}") for i in range(2000)
    )
    assert edit_page() == fewer


def test_a_name_typed_in_full_chooses_the_workplace_at_sign_up(client, first_policies):
    many_workplaces()
    school = Organisation.objects.get(name="Greenfield School 0042")
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "Sam",
            "last_name": "Signup",
            "email": "sam@greenfield.sch.uk",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "workplace_search": "  greenfield   SCHOOL 0042 ",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    profile = Profile.objects.get(user__email="sam@greenfield.sch.uk")
    assert profile.organisation == school
    assert Membership.objects.get(person=profile.user).organisation == school


def test_part_of_a_name_offers_those_found_and_one_is_chosen(client, first_policies):
    many_workplaces()
    Organisation.objects.create(name="St Mary's Primary, Leeds")
    Organisation.objects.create(name="St Mary's Surgery, York")
    form = sign_up_with("mary's")
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Error:" in page
    message = "Choose your workplace from those found, or search again"
    # Beside the search box, tied to it, and in the summary linking to it.
    assert (
        f'<p class="govuk-error-message" id="id_workplace_search_error"><span class="govuk-visually-hidden">Error:</span> {message}'
        in page
    )
    assert (
        'aria-describedby="id_workplace_search_helptext id_workplace_search_error"'
        in page
    )
    assert f'<a href="#id_workplace_search">{message}</a>' in page
    assert radios(page) == [
        "St Mary&#x27;s Primary, Leeds",
        "St Mary&#x27;s Surgery, York",
        "None of these",
    ]
    assert not Profile.objects.filter(user__email="sam@example.org").exists()

    surgery = Organisation.objects.get(name="St Mary's Surgery, York")
    response = client.post(
        "/accounts/signup/", {**form, **shown(page), "organisation": surgery.pk}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Profile.objects.get(user__email="sam@example.org").organisation == surgery


def test_a_broad_search_offers_the_first_found_by_name(client):
    many_workplaces()
    response = client.post("/profile/edit/", {**PROFILE, "workplace_search": "green"})
    # Not signed in: sent to sign in, nothing searched for them.
    assert response.status_code == 302
    client.force_login(verified_person())
    page = client.post(
        "/profile/edit/", {**PROFILE, "workplace_search": "green"}
    ).content.decode()
    found = radios(page)
    assert found == [
        *(f"Greenfield School {i:04d}" for i in range(forms.WORKPLACES_FOUND)),
        "None of these",
    ]
    assert (
        f"These are the first {forms.WORKPLACES_FOUND} found. Type more of its "
        "name to find others."
    ) in page
    # A narrower search finds fewer, and says nothing of others.
    page = client.post(
        "/profile/edit/", {**PROFILE, "workplace_search": "school 019"}
    ).content.decode()
    assert radios(page) == [
        "Greenfield School 0019",
        *(f"Greenfield School {i:04d}" for i in range(190, 200)),
        "None of these",
    ]
    assert "These are the first" not in page


def test_nothing_found_says_so_and_a_new_workplace_can_be_named():
    many_workplaces()
    person = verified_person()
    client = signed_in(person)
    page = client.post(
        "/profile/edit/", {**PROFILE, "workplace_search": "Hillside"}
    ).content.decode()
    assert (
        "No workplace has \N{LEFT DOUBLE QUOTATION MARK}Hillside"
        "\N{RIGHT DOUBLE QUOTATION MARK} in its name. "
        "Check the spelling, or name it below as a new workplace"
    ) in page
    assert radios(page) == []
    assert "Or name a workplace that is not found" in page
    assert Profile.objects.get(user=person).organisation is None

    response = client.post(
        "/profile/edit/", {**PROFILE, "new_organisation_name": "Hillside Surgery"}
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=person).organisation.name == "Hillside Surgery"


def test_the_current_workplace_stays_chosen_and_can_be_changed():
    many_workplaces()
    person = verified_person()
    client = signed_in(person)
    first = Organisation.objects.get(name="Greenfield School 0007")
    client.post("/profile/edit/", {**PROFILE, "workplace_search": first.name})
    assert Profile.objects.get(user=person).organisation == first

    page = client.get("/profile/edit/").content.decode()
    assert radios(page) == ["Greenfield School 0007", "None of these"]
    assert re.search(rf'value="{first.pk}"[^>]* checked', page)
    # Saved again without a search, the workplace is kept.
    client.post("/profile/edit/", {**PROFILE, "organisation": first.pk})
    assert Profile.objects.get(user=person).organisation == first

    # A new search, the current workplace still ticked, shows what it found
    # beside it and changes nothing yet.
    searched = {**PROFILE, "organisation": first.pk, "workplace_search": "School 010"}
    response = client.post("/profile/edit/", searched)
    assert response.status_code == 200
    page = response.content.decode()
    assert radios(page) == [
        "Greenfield School 0007",
        # Each word anywhere in the name: "010" is in 0010 and 0100-0109.
        "Greenfield School 0010",
        *(f"Greenfield School {i:04d}" for i in range(100, 110)),
        "None of these",
    ]
    assert shown(page) == {"workplace_shown": "School 010"}
    assert Profile.objects.get(user=person).organisation == first
    # Sent back as shown, the radio button ticked is the answer: the
    # current workplace kept, or one found chosen.
    response = client.post("/profile/edit/", {**searched, **shown(page)})
    assert response.status_code == 302
    assert Profile.objects.get(user=person).organisation == first
    other = Organisation.objects.get(name="Greenfield School 0104")
    response = client.post(
        "/profile/edit/", {**searched, **shown(page), "organisation": other.pk}
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=person).organisation == other
    # A name typed in full wins over the radio button ticked beforehand.
    client.post(
        "/profile/edit/",
        {**PROFILE, "organisation": other.pk, "workplace_search": first.name},
    )
    assert Profile.objects.get(user=person).organisation == first
    # And "None of these" leaves it.
    client.post("/profile/edit/", {**PROFILE, "organisation": ""})
    assert Profile.objects.get(user=person).organisation is None


def test_a_suggested_workplace_does_not_win_over_one_searched_for():
    """The workplace chosen from the email domain is ticked when the page
    comes: a person who searches for another gets the other, not it."""
    many_workplaces()
    suggested = Organisation.objects.create(
        name="Hillside Primary", email_domain="hillside.sch.uk"
    )
    person = verified_person(email="kim@hillside.sch.uk")
    client = signed_in(person)
    page = client.get("/profile/complete/").content.decode()
    assert re.search(rf'value="{suggested.pk}"[^>]* checked', page)
    assert "We have chosen Hillside Primary because" in page
    response = client.post(
        "/profile/complete/",
        {
            "job_title": "Teacher",
            "organisation": suggested.pk,
            "workplace_search": "Greenfield School 0003",
        },
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=person).organisation.name == (
        "Greenfield School 0003"
    )
    assert not Membership.objects.filter(organisation=suggested).exists()
    # The suggestion's hint and a long list's hint are both said.
    page = client.post(
        "/profile/complete/",
        {"job_title": "", "organisation": suggested.pk, "workplace_search": "green"},
    ).content.decode()
    assert "These are the first 20 found." in page


def test_a_workplace_no_longer_listed_is_said_beside_the_search():
    many_workplaces()
    client = signed_in(verified_person())
    response = client.post("/profile/edit/", {**PROFILE, "organisation": "99999999"})
    page = response.content.decode()
    message = "That workplace is no longer listed. Find it again"
    assert f'<a href="#id_workplace_search">{message}</a>' in page
    assert f"</span> {message}" in page


def test_complete_your_profile_asks_for_a_workplace_found_or_named():
    many_workplaces()
    person = verified_person()
    client = signed_in(person)
    page = client.post("/profile/complete/", {"job_title": "Teacher"}).content.decode()
    message = "Find your workplace, or enter its name if it is not found"
    assert f'<a href="#id_workplace_search">{message}</a>' in page
    response = client.post(
        "/profile/complete/",
        {"job_title": "Teacher", "workplace_search": "greenfield school 0003"},
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=person).organisation.name == (
        "Greenfield School 0003"
    )


def test_a_workplace_found_and_one_named_are_not_both_taken():
    many_workplaces()
    client = signed_in(verified_person())
    page = client.post(
        "/profile/complete/",
        {
            "job_title": "Teacher",
            "workplace_search": "Greenfield School 0003",
            "new_organisation_name": "Hillside Surgery",
        },
    ).content.decode()
    assert "Choose a workplace found or name a new one, not both" in page
    assert not Organisation.objects.filter(name="Hillside Surgery").exists()


def test_a_search_by_part_of_a_name_reads_an_index_not_every_workplace():
    many_workplaces()
    from accounts.selectors import organisations_matching

    with CaptureQueriesContext(connection) as captured:
        organisations_matching("field school 01", limit=forms.WORKPLACES_FOUND)
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        # A test database is too small for an index to pay: ask for the plan
        # PostgreSQL would choose when it does.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "organisation_name_trgm" in plan, plan


def test_a_name_in_full_is_kept_when_the_form_comes_back_for_another_field(
    client, first_policies
):
    """The name typed in full comes back ticked, so sending the form again
    (the other field corrected) keeps it: it was lost, and the workplace
    ticked beforehand (or none) was saved instead."""
    many_workplaces()
    suggested = Organisation.objects.create(
        name="Hillside Primary", email_domain="hillside.sch.uk"
    )
    wanted = Organisation.objects.get(name="Greenfield School 0003")
    person = verified_person(email="kim@hillside.sch.uk")
    signed = signed_in(person)
    sent = {
        "job_title": "",
        "organisation": suggested.pk,
        "workplace_search": "greenfield school 0003",
    }
    page = signed.post("/profile/complete/", sent).content.decode()
    assert "Enter your job title" in page
    assert re.search(rf'value="{wanted.pk}"[^>]* checked', page)
    assert "We have chosen Hillside Primary" not in page  # not the one chosen
    again = {**sent, **shown(page), "organisation": wanted.pk, "job_title": "Nurse"}
    assert signed.post("/profile/complete/", again).status_code == 302
    assert Profile.objects.get(user=person).organisation == wanted

    # Signing up: the passwords did not match.
    form = {
        "first_name": "Sam",
        "last_name": "Signup",
        "email": "sam@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD + "x",
        "workplace_search": "Greenfield School 0042",
    }
    page = client.post("/accounts/signup/", form).content.decode()
    school = Organisation.objects.get(name="Greenfield School 0042")
    assert re.search(rf'value="{school.pk}"[^>]* checked', page)
    response = client.post(
        "/accounts/signup/",
        {**form, **shown(page), "organisation": school.pk, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert Profile.objects.get(user__email="sam@example.org").organisation == school


def test_results_shown_ask_for_a_choice_and_a_change_of_case_is_no_new_search(
    client, first_policies
):
    many_workplaces()
    form = sign_up_with("school 010")
    page = client.post("/accounts/signup/", form).content.decode()
    assert "Choose your workplace from those found, or search again" in page
    assert (
        " checked"
        not in page.split('name="organisation"', 1)[1].split("</fieldset>")[0]
    )
    # Sent back with nothing ticked: a choice is asked for, "None of these"
    # being one; the search typed in other capitals is the same search.
    page = client.post(
        "/accounts/signup/", {**form, **shown(page), "workplace_search": "School 010"}
    ).content.decode()
    message = "Choose your workplace from those found, or None of these"
    assert f'<a href="#id_organisation_0">{message}</a>' in page
    response = client.post(
        "/accounts/signup/", {**form, **shown(page), "organisation": "none"}
    )
    assert response.status_code == 302
    assert Profile.objects.get(user__email="sam@example.org").organisation is None
