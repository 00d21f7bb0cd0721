import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from marketing import selectors
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

from .factories import person

TAG = Template("{% load marketing %}{% recommended_for_you %}")


def render_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return TAG.render(Context({"request": request}))


@pytest.fixture
def catalogue():
    safeguarding, first_aid = TopicFactory.create_batch(2)
    booked = SessionFactory.create(
        course=CourseFactory.create(title="Safeguarding basics", topics=[safeguarding])
    )
    for title, topics in (
        ("Safeguarding advanced", [safeguarding]),
        ("Paediatric first aid", [first_aid]),
        ("Unrelated", []),
    ):
        SessionFactory.create(course=CourseFactory.create(title=title, topics=topics))
    CourseFactory.create(title="Safeguarding archive", topics=[safeguarding])
    return {"booked": booked, "first_aid": first_aid}


@pytest.mark.django_db
def test_recommends_from_booked_topics_and_job_title(catalogue):
    learner = person(consents=[("profiling", "web")], job_title="School nurse")
    BookingFactory.create(person=learner, session=catalogue["booked"])
    colleague = person(job_title="school nurse")
    first_aid = SessionFactory.create(
        course=CourseFactory.create(
            title="First aid refresher", topics=[catalogue["first_aid"]]
        )
    )
    BookingFactory.create(person=colleague, session=first_aid)
    titles = [c.title for c in selectors.recommended_courses(learner)]
    # Not what they booked, nor a course without upcoming sessions.
    assert titles == [
        "First aid refresher",
        "Paediatric first aid",
        "Safeguarding advanced",
    ]


@pytest.mark.django_db
def test_the_block_shows_with_consent_in_at_most_two_queries(
    catalogue, django_assert_num_queries
):
    learner = person(consents=[("profiling", "web")])
    BookingFactory.create(person=learner, session=catalogue["booked"])
    with django_assert_num_queries(2):
        html = render_for(learner)
    assert "Recommended for you" in html
    assert "Safeguarding advanced" in html
    assert "because you agreed to “Offers chosen from your bookings”" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{}, {"processing_restricted": True}],
    ids=["no consent to profiling", "processing restricted"],
)
def test_nothing_is_shown_without_consent_to_profiling(
    catalogue, django_assert_max_num_queries, fields
):
    consents = [("profiling", "web")] if fields else []
    learner = person(consents=consents, **fields)
    BookingFactory.create(person=learner, session=catalogue["booked"])
    with django_assert_max_num_queries(1):
        assert render_for(learner).strip() == ""


@pytest.mark.django_db
def test_nothing_and_no_queries_for_anonymous_visitors(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render_for(AnonymousUser()).strip() == ""


@pytest.mark.django_db
def test_the_home_page_carries_the_block(client, catalogue):
    learner = person(consents=[("profiling", "web")])
    BookingFactory.create(person=learner, session=catalogue["booked"])
    client.force_login(learner)
    assert "Recommended for you" in client.get("/").content.decode()
