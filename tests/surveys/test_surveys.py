"""Surveys (issue 20): staff build them, they go out through marketing on the
`surveys` purpose (consent checked at sending), people answer once, and staff
see only suppressed totals."""

import re

import pytest
from django.core import mail
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from config.suppression import suppress_table
from consent.services import record_consent
from marketing import services as marketing
from marketing.models import Delivery
from privacy import services as privacy_services
from surveys import selectors
from surveys.models import Answer, Question, Response, Survey
from tests.fuzz.test_hostile_input import FUZZ
from tests.marketing.factories import CampaignFactory, person

SURVEYS = [("surveys", "email")]


def a_survey(status="open"):
    survey = Survey.objects.create(title="Your training this year", status=status)
    Question.objects.create(
        survey=survey,
        order=1,
        kind="choice",
        text="Which suits you?",
        choices="Mornings\nAfternoons\nEvenings",
    )
    Question.objects.create(
        survey=survey,
        order=2,
        kind="scale",
        text="How useful was it?",
        low_label="Not at all",
        high_label="Very",
    )
    Question.objects.create(
        survey=survey, order=3, kind="text", text="What should we add?", required=False
    )
    return survey


def answer(client, survey, **values):
    q = {q.kind: q for q in survey.questions.all()}
    data = {
        f"q{q['choice'].pk}": values.get("choice", "Mornings"),
        f"q{q['scale'].pk}": values.get("scale", "4"),
        f"q{q['text'].pk}": values.get("text", ""),
    }
    return client.post(survey.get_absolute_url(), data)


# --- sending --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_survey_goes_only_to_people_who_said_yes_to_surveys(
    django_capture_on_commit_callbacks,
):
    survey = a_survey()
    yes = person(consents=SURVEYS)
    person(consents=[("marketing", "email")])  # offers, not surveys
    restricted = person(consents=SURVEYS, processing_restricted=True)
    campaign = CampaignFactory.create(
        purpose="surveys", survey=survey, subject="Tell us", body="Hello {first_name}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        marketing.send_campaign(campaign)
    assert [m.to for m in mail.outbox] == [[yes.email]]
    (message,) = mail.outbox
    assert f"http://testserver{survey.get_absolute_url()}" in message.body
    assert "hear from" in message.body
    assert "about surveys" in message.body
    assert Delivery.objects.get(campaign=campaign, person=restricted).status == (
        "skipped_restricted"
    )


@pytest.mark.django_db
def test_people_who_withdrew_mid_send_receive_nothing(settings):
    """The required test: the audience is queued, then some people withdraw
    (preferences, unsubscribe link, objection, restriction) before their batch
    is sent; none of them receives the survey."""
    settings.MARKETING_BATCH_SIZE = 2
    survey = a_survey()
    stays = [person(consents=SURVEYS) for _ in range(3)]
    by_preferences, by_link, by_objection, by_restriction = (
        person(consents=SURVEYS) for _ in range(4)
    )
    campaign = CampaignFactory.create(
        purpose="surveys", survey=survey, subject="Tell us"
    )
    campaign = marketing.send_campaign(campaign)  # queued after commit: not yet
    ids = list(
        __import__("marketing.selectors", fromlist=["x"]).campaign_audience_ids(
            campaign
        )
    )
    first, rest = ids[:2], ids[2:]
    marketing.send_batch(campaign.pk, first, rate_per_second=None)
    already = {m.to[0] for m in mail.outbox}
    # Mid-send: these withdraw after the first batch went.
    record_consent(by_preferences, "surveys", "email", False, "preferences")
    marketing.unsubscribe(
        marketing.unsubscribe_token(by_link, purpose="surveys", channel="email")
    )
    privacy_services.object_to_direct_marketing(by_objection)
    privacy_services.restrict_processing(by_restriction)
    marketing.send_batch(campaign.pk, rest, rate_per_second=None)
    got = {m.to[0] for m in mail.outbox}
    withdrew = {by_preferences, by_link, by_objection, by_restriction}
    assert not ({p.email for p in withdrew} & (got - already))
    for p in withdrew:
        if p.email not in already:
            assert Delivery.objects.get(campaign=campaign, person=p).status.startswith(
                "skipped"
            )
    assert {p.email for p in stays} <= got


@pytest.mark.django_db
def test_a_survey_campaign_needs_an_open_survey():
    draft = a_survey(status="draft")
    campaign = CampaignFactory.create(purpose="surveys", survey=None)
    with pytest.raises(marketing.MarketingError, match="needs a survey"):
        marketing.send_campaign(campaign)
    campaign.survey = draft
    campaign.save()
    with pytest.raises(
        marketing.MarketingError, match="Open “Your training this year”"
    ):
        marketing.send_campaign(campaign)


# --- answering -------------------------------------------------------------------


@pytest.mark.django_db
def test_answering_once_and_seeing_what_you_said(learner_client):
    survey = a_survey()
    page = learner_client.get(survey.get_absolute_url())
    html = page.content.decode()
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Which suits you?</legend>'
        in html
    )
    assert "5: Very" in html
    done = answer(
        learner_client, survey, choice="Evenings", scale="5", text="More online"
    )
    assert done.status_code == 302
    again = answer(learner_client, survey, choice="Mornings")  # a second tab
    assert again.status_code == 200 or again.status_code == 302
    (response,) = Response.objects.filter(survey=survey)
    assert response.person == learner_client.user
    assert sorted(a.value for a in response.answers.all()) == [
        "5",
        "Evenings",
        "More online",
    ]
    shown = learner_client.get(survey.get_absolute_url()).content.decode()
    assert "You answered on" in shown
    assert "Evenings" in shown
    assert "Send answers" not in shown


@pytest.mark.django_db
def test_missing_and_forged_answers_get_messages_tied_to_their_questions(
    learner_client,
):
    survey = a_survey()
    q = {q.kind: q for q in survey.questions.all()}
    page = learner_client.post(
        survey.get_absolute_url(),
        {f"q{q['choice'].pk}": "Midnight", f"q{q['text'].pk}": "x" * 2001},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Error: " in html
    assert (
        f'href="#id_q{q["choice"].pk}_0">Choose one of the answers to “Which suits you?”'
        in html
    )
    assert "Choose an answer to “How useful was it?”" in html
    assert f'id="id_q{q["text"].pk}_error"' in html
    assert not Response.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["draft", "closed", "restricted"])
def test_closed_draft_and_restricted_answer_nothing(learner_client, state):
    survey = a_survey(status="closed" if state == "closed" else "open")
    if state == "draft":
        survey.status = "draft"
        survey.save()
    if state == "restricted":
        learner_client.user.processing_restricted = True
        learner_client.user.save()
    page = learner_client.get(survey.get_absolute_url())
    assert page.status_code == (404 if state == "draft" else 200)
    answer(learner_client, survey)
    assert not Response.objects.exists()
    if state == "closed":
        assert "This survey has closed" in page.content.decode()
    if state == "restricted":
        assert "restrict the use of your data" in page.content.decode()


@pytest.mark.django_db
def test_a_survey_needs_signing_in_and_its_link_cannot_be_guessed(client):
    survey = a_survey()
    page = client.get(survey.get_absolute_url())
    assert page.status_code == 302
    assert "/accounts/login/" in page["Location"]
    assert len(survey.key) >= 20
    assert client.get(f"/surveys/{survey.pk}/").status_code in (302, 404)


# --- results ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        ([0, 7, 9], [0, 7, 9]),
        ([3, 7, 9], [None, None, 9]),  # one hidden, so the next smallest too
        ([1, 1, 9, 12], [None, None, None, 12]),  # 1+1 < 5: a third
        ([2, 4, 9], [None, None, 9]),
        ([4], [None]),
        ([0, 0, 0], [0, 0, 0]),
    ],
)
def test_suppression(counts, shown):
    assert selectors.suppress_counts(counts, 5) == shown


@FUZZ
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
    st.integers(2, 10),
)
def test_no_hidden_count_can_be_worked_out_from_the_total(counts, limit):
    shown = selectors.suppress_counts(counts, limit)
    hidden = [n for n, s in zip(counts, shown, strict=True) if s is None]
    for n, s in zip(counts, shown, strict=True):
        if s is not None:
            assert s == n
            assert n == 0 or n >= limit
    total_hidden = suppress_table(
        [counts], threshold=limit, column_totals=False, grand_total=False
    ).row_totals[0]
    if hidden and not total_hidden:
        # Knowing the total, the hidden counts (each at least 1) must fit
        # more than one split: at least two of them, not all ones.
        assert len(hidden) >= 2
        assert sum(hidden) > len(hidden)


@pytest.mark.django_db
def test_staff_see_totals_with_small_counts_hidden_and_no_names(
    marketing_client,
):
    survey = a_survey()
    choices = ["Mornings"] * 7 + ["Afternoons"] * 3 + ["Evenings"] * 2
    for n, choice in enumerate(choices):
        c = Client()
        someone = person(first_name=f"Person{n}")
        c.force_login(someone)
        answer(c, survey, choice=choice, scale="4", text=f"Idea from Person{n}")
    page = marketing_client.get(f"/admin/surveys/survey/{survey.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>12</strong> people have answered" in html
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', html))
    assert rows["Mornings"] == "7"
    assert rows["Afternoons"] == rows["Evenings"] == "hidden"
    assert rows["4"] == "12"
    assert rows["1: Not at all"] == "0"
    assert "Idea from Person3" in html  # free text, without who wrote it
    assert "Person3</" not in html.replace("Idea from Person3", "")
    assert "Response" not in html.split("Results")[-1]


@pytest.mark.django_db
def test_results_wait_for_enough_answers(marketing_client):
    survey = a_survey()
    for _n in range(4):
        c = Client()
        c.force_login(person())
        answer(c, survey, text="secret idea")
    html = marketing_client.get(
        f"/admin/surveys/survey/{survey.pk}/change/"
    ).content.decode()
    assert "Results are shown once at least 5 people have answered" in html
    assert "secret idea" not in html
    assert ">4</td>" not in html


@pytest.mark.django_db
def test_staff_build_a_survey_in_admin_and_open_it(marketing_client):
    data = {
        "title": "Venues",
        "introduction": "Two minutes.",
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "0",
        "questions-0-order": "1",
        "questions-0-kind": "choice",
        "questions-0-text": "Which venue?",
        "questions-0-choices": "Only one",
        "questions-0-required": "on",
        "questions-1-order": "2",
        "questions-1-kind": "text",
        "questions-1-text": "Why?",
    }
    page = marketing_client.post("/admin/surveys/survey/add/", data)
    assert page.status_code == 200
    assert "Give at least two choices, one per line." in page.content.decode()
    data["questions-0-choices"] = "North\nSouth"
    assert marketing_client.post("/admin/surveys/survey/add/", data).status_code == 302
    survey = Survey.objects.get()
    assert [q.text for q in survey.questions.all()] == ["Which venue?", "Why?"]
    marketing_client.post(
        "/admin/surveys/survey/",
        {"action": "open_selected", "_selected_action": [survey.pk]},
    )
    survey.refresh_from_db()
    assert survey.status == "open"
    # Questions can no longer change once people can answer.
    html = marketing_client.get(
        f"/admin/surveys/survey/{survey.pk}/change/"
    ).content.decode()
    assert 'name="questions-0-text"' not in html


# --- privacy ---------------------------------------------------------------------


@pytest.mark.django_db
def test_erasure_keeps_totals_but_removes_free_text_and_the_person():
    survey = a_survey()
    someone = person()
    c = Client()
    c.force_login(someone)
    answer(c, survey, choice="Evenings", text="I am Ada from Westmoor")
    privacy_services.erase_person(someone)
    (response,) = Response.objects.all()
    assert response.person is None
    assert sorted(a.value for a in Answer.objects.all() if a.value) == ["4", "Evenings"]
    assert not Answer.objects.filter(text__contains="Ada").exists()


@pytest.mark.django_db
def test_the_preferences_page_offers_surveys(learner_client):
    html = learner_client.get("/preferences/").content.decode()
    assert 'name="surveys__email"' in html
    assert "Surveys about training and the service: Email" in html
    assert 'name="partner_marketing__email"' in html
