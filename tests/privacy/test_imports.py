import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, PriorLearning
from privacy import services
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    return client


def csv_format_index(client, url) -> str:
    form = client.get(url).context["form"]
    return next(
        str(v)
        for v, label in form.fields["format"].choices
        if "csv" in str(label).lower()
    )


def upload(client, url, content: str, source="University of Westmoor"):
    fmt = csv_format_index(client, url)
    return client.post(
        url,
        {
            "import_file": SimpleUploadedFile(
                "data.csv", content.encode(), content_type="text/csv"
            ),
            "format": fmt,
            "source": source,
            "resource": "0",
        },
    )


def confirm(client, url, preview):
    form = preview.context["confirm_form"]
    data = {
        name: form.initial.get(name, field.initial)
        for name, field in form.fields.items()
    }
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url.replace("/import/", "/process_import/"), data)


def test_import_people_previews_then_saves_with_source(admin_client):
    url = "/admin/accounts/user/import/"
    preview = upload(
        admin_client, url, "email,first_name,last_name\nNEW@uni.example,Nia,Okafor\n"
    )
    assert preview.status_code == 200
    assert "Nia" in preview.content.decode()
    assert not User.objects.filter(email="new@uni.example").exists()  # preview only
    response = confirm(admin_client, url, preview)
    assert response.status_code == 302
    person = User.objects.get(email="new@uni.example")
    assert person.import_source == "University of Westmoor"
    assert person.imported_at is not None
    assert not person.has_usable_password()


def test_one_bad_row_names_row_and_column_and_saves_nothing(admin_client):
    url = "/admin/bookings/priorlearning/import/"
    UserFactory.create(email="known@example.org")
    rows = (
        "email,title,provider_name,completed_on,cpd_hours,notes\n"
        "known@example.org,First aid,St John,2025-02-01,6,\n"
        "known@example.org,Safeguarding,Hub,2025-02-30,3,\n"
        "nobody@example.org,Phonics,Hub,2025-02-01,abc,\n"
    )
    preview = upload(admin_client, url, rows)
    html = preview.content.decode()
    assert (
        "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    )
    assert "completed_on" in html
    assert "No person has the email nobody@example.org" in html
    assert "Hours must be a number" in html
    assert "Line number: 2" in html or "Row 2" in html or ">2<" in html
    assert not PriorLearning.objects.exists()


def test_imported_prior_training_shows_its_source_to_the_person(admin_client):
    person = UserFactory.create(email="known@example.org")
    url = "/admin/bookings/priorlearning/import/"
    preview = upload(
        admin_client,
        url,
        "email,title,provider_name,completed_on,cpd_hours,notes\n"
        "known@example.org,First aid,St John,2025-02-01,6,\n",
        source="North Borough training hub",
    )
    confirm(admin_client, url, preview)
    item = PriorLearning.objects.get()
    assert item.import_source == "North Borough training hub"
    sources = services.data_sources(person)
    assert sources[0]["source"] == "North Borough training hub"
    client = Client()
    client.force_login(person)
    assert "North Borough training hub" in client.get("/my-data/").content.decode()


def test_booking_import_only_records_past_attendance(admin_client):
    UserFactory.create(email="known@example.org")
    past = SessionFactory.create(starts_at=timezone.now() - dt.timedelta(days=10))
    future = SessionFactory.create()
    url = "/admin/bookings/booking/import/"
    preview = upload(
        admin_client,
        url,
        f"email,session,status\nknown@example.org,{future.pk},attended\n",
    )
    assert "Only past sessions can be imported" in preview.content.decode()
    preview = upload(
        admin_client,
        url,
        f"email,session,status\nknown@example.org,{past.pk},confirmed\n",
    )
    assert "Status must be attended or no_show" in preview.content.decode()
    preview = upload(
        admin_client,
        url,
        f"email,session,status\nknown@example.org,{past.pk},attended\n",
    )
    confirm(admin_client, url, preview)
    booking = Booking.objects.get()
    assert (booking.status, booking.import_source) == (
        "attended",
        "University of Westmoor",
    )
