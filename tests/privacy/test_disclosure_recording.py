"""Recording every disclosure from the back office, and withholding one from
the person under an exemption with a second person's approval. A withheld
disclosure is absent from the person's export and "Your data"; a normal one
is present; a pending one is not withheld yet."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from privacy import disclosures, services
from privacy.models import AuditEvent, Disclosure
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db

DISCLOSURES = "/admin/privacy/disclosure/"


def dp_lead():
    lead = UserFactory.create(is_staff=True)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(lead)
    return lead


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def record(by, people, **extra) -> Disclosure:
    return disclosures.record_disclosure(
        recipient=extra.pop("recipient", "Metropolitan Police"),
        recipient_kind=extra.pop("recipient_kind", "law_enforcement"),
        lawful_basis=extra.pop("lawful_basis", "legal_obligation"),
        fields="Name, bookings and attendance",
        purpose=extra.pop("purpose", "Request under DPA 2018 Sch. 2 para. 2"),
        people=people,
        by=by,
        **extra,
    )


def exported(person) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(services.export_person(person))) as archive:
        return json.loads(archive.read("data.json"))["categories"]["disclosures"]


def my_data_page(person) -> str:
    client = Client()
    client.force_login(person)
    return client.get("/my-data/").content.decode()


def test_a_withheld_disclosure_needs_a_second_person_and_is_absent_from_the_export():
    first, second = dp_lead(), dp_lead()
    person = UserFactory.create()
    normal = record(
        first,
        [person],
        recipient="Our auditors",
        recipient_kind="professional_advisers",
        purpose="Annual audit",
    )
    hidden = record(
        first,
        [person],
        withhold_exemption="crime",
        withhold_reason="Police investigation in progress; telling would prejudice it.",
    )
    # Until a second person approves, it is not withheld.
    assert hidden.awaiting_second_approver
    assert {d["recipient"] for d in exported(person)} == {
        "Our auditors",
        "Metropolitan Police",
    }
    with pytest.raises(services.PrivacyError, match="different person"):
        disclosures.approve_withholding(hidden, by=first)
    hidden.refresh_from_db()
    assert not hidden.is_withheld

    disclosures.approve_withholding(hidden, by=second)
    hidden.refresh_from_db()
    assert hidden.is_withheld
    rows = exported(person)
    assert [r["recipient"] for r in rows] == ["Our auditors"]
    assert normal.recipient in my_data_page(person)
    page = my_data_page(person)
    assert "Metropolitan Police" not in page
    # Nothing the person can see says a withheld one exists.
    with zipfile.ZipFile(io.BytesIO(services.export_person(person))) as archive:
        everything = archive.read("data.json").decode()
    for trace in ("Metropolitan Police", "withhold", f"disclosure:{hidden.pk}"):
        assert trace not in everything


def test_a_disclosure_about_several_people_shows_to_each():
    lead = dp_lead()
    ann, bob, other = UserFactory.create_batch(3)
    record(
        lead,
        [ann, bob],
        recipient="NHS England",
        recipient_kind="commissioner",
        lawful_basis="public_task",
    )
    assert [r["recipient"] for r in exported(ann)] == ["NHS England"]
    assert exported(ann)[0]["kind_of_recipient"] == (
        "Commissioner (including NHS England)"
    )
    assert [r["recipient"] for r in exported(bob)] == ["NHS England"]
    assert exported(other) == []


def test_an_aggregated_report_names_no_one():
    lead = dp_lead()
    person = UserFactory.create()
    disclosure = record(
        lead,
        [],
        recipient="Funder",
        recipient_kind="funder",
        report_reference="Q3 attendance report",
    )
    assert disclosure.report_reference == "Q3 attendance report"
    assert exported(person) == []


def test_people_or_a_report_reference_is_required():
    with pytest.raises(services.PrivacyError, match="Choose the people"):
        record(dp_lead(), [])


def test_withholding_needs_an_exemption_and_a_reason():
    lead = dp_lead()
    with pytest.raises(services.PrivacyError, match="reason"):
        record(lead, [UserFactory.create()], withhold_exemption="crime")
    assert not Disclosure.objects.exists()


def test_the_approver_must_hold_the_role():
    lead = dp_lead()
    disclosure = record(
        lead, [UserFactory.create()], withhold_exemption="crime", withhold_reason="x"
    )
    outsider = UserFactory.create(is_staff=True)
    with pytest.raises(services.PrivacyError, match="permission"):
        disclosures.approve_withholding(disclosure, by=outsider)


def test_a_lead_cannot_approve_withholding_a_disclosure_about_themselves():
    first, second = dp_lead(), dp_lead()
    disclosure = record(
        first, [second], withhold_exemption="crime", withhold_reason="x"
    )
    with pytest.raises(services.PrivacyError, match="about you"):
        disclosures.approve_withholding(disclosure, by=second)


def test_rejecting_keeps_it_visible_and_lifting_shows_it_again():
    first, second = dp_lead(), dp_lead()
    person = UserFactory.create()
    disclosure = record(
        first, [person], withhold_exemption="legal_proceedings", withhold_reason="x"
    )
    assert (
        disclosures.reject_withholding(disclosure, by=second, reason="Not needed")
        == "rejected"
    )
    disclosure.refresh_from_db()
    assert not disclosure.awaiting_second_approver
    assert disclosure.withhold_refusal_reason == "Not needed"
    assert exported(person)

    disclosures.request_withholding(
        disclosure, exemption="crime", reason="New information", by=first
    )
    disclosures.approve_withholding(disclosure, by=second)
    assert exported(person) == []
    disclosures.lift_withholding(disclosure, by=first)
    assert exported(person)


def test_each_step_is_audited_against_the_disclosure_not_the_person():
    first, second = dp_lead(), dp_lead()
    person = UserFactory.create()
    disclosure = record(
        first, [person], withhold_exemption="crime", withhold_reason="secret"
    )
    disclosures.approve_withholding(disclosure, by=second)
    actions = list(
        AuditEvent.objects.filter(subject=f"disclosure:{disclosure.pk}")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "disclosure recorded",
        "withholding requested",
        "withholding approved",
    ]
    assert not AuditEvent.objects.filter(subject=f"user:{person.pk}").exists()
    assert not AuditEvent.objects.filter(detail__contains="secret").exists()


def test_recorded_in_admin_with_people_and_approved_by_a_second_lead():
    first, second = dp_lead(), dp_lead()
    person = UserFactory.create()
    response = staff_client(first).post(
        DISCLOSURES + "add/",
        {
            "recipient": "Metropolitan Police",
            "recipient_kind": "law_enforcement",
            "lawful_basis": "legal_obligation",
            "fields": "Name and attendance",
            "purpose": "Crime investigation",
            "people": [str(person.pk)],
            "report_reference": "",
            "withhold_exemption": "crime",
            "withhold_reason": "Investigation in progress",
        },
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "awaiting a second approver" in page
    disclosure = Disclosure.objects.get()
    assert list(disclosure.people.all()) == [person]
    assert disclosure.recorded_by == first
    assert disclosure.withhold_requested_by == first

    own = staff_client(first).post(
        DISCLOSURES,
        {"action": "approve_withholding", "_selected_action": [str(disclosure.pk)]},
        follow=True,
    )
    assert "a different person must approve" in own.content.decode()
    disclosure.refresh_from_db()
    assert not disclosure.is_withheld

    staff_client(second).post(
        DISCLOSURES,
        {"action": "approve_withholding", "_selected_action": [str(disclosure.pk)]},
    )
    disclosure.refresh_from_db()
    assert disclosure.is_withheld
    assert disclosure.withheld_by == second


def test_the_admin_form_explains_what_is_missing():
    lead = dp_lead()
    response = staff_client(lead).post(
        DISCLOSURES + "add/",
        {
            "recipient": "Court",
            "recipient_kind": "court",
            "lawful_basis": "legal_obligation",
            "fields": "Name",
            "purpose": "Court order",
            "withhold_reason": "A reason without an exemption",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose the people it was about" in page
    assert "Choose the exemption it is withheld under" in page
    assert not Disclosure.objects.exists()


def test_disclosures_are_never_edited_or_deleted_in_admin():
    lead = dp_lead()
    disclosure = record(lead, [UserFactory.create()])
    client = staff_client(lead)
    client.post(
        f"{DISCLOSURES}{disclosure.pk}/change/",
        {"recipient": "Someone else", "purpose": "changed"},
    )
    disclosure.refresh_from_db()
    assert disclosure.recipient == "Metropolitan Police"
    assert client.post(f"{DISCLOSURES}{disclosure.pk}/delete/").status_code == 403
    assert Disclosure.objects.count() == 1


def test_other_roles_cannot_record_a_disclosure():
    booking_admin = UserFactory.create(is_staff=True)
    booking_admin.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    give_totp(booking_admin)
    assert staff_client(booking_admin).get(DISCLOSURES + "add/").status_code == 403
    with pytest.raises(services.PrivacyError, match="permission"):
        record(booking_admin, [UserFactory.create()])


def test_withholding_can_be_asked_for_after_a_disclosure_was_recorded():
    first, second = dp_lead(), dp_lead()
    person = UserFactory.create()
    disclosure = record(first, [person])
    client = staff_client(first)
    chosen = {"action": "ask_to_withhold", "_selected_action": [disclosure.pk]}
    page = client.post(DISCLOSURES, chosen)
    assert "Withhold this disclosure from the people concerned?" in (
        page.content.decode()
    )
    page = client.post(DISCLOSURES, {**chosen, "confirm": "yes"})
    html = page.content.decode()
    assert "Choose the exemption it is withheld under." in html
    assert "Give the reason it must be withheld." in html
    disclosure.refresh_from_db()
    assert not disclosure.awaiting_second_approver
    page = client.post(
        DISCLOSURES,
        {
            **chosen,
            "confirm": "yes",
            "withhold_exemption": "crime",
            "withhold_reason": "Police investigation under way",
        },
        follow=True,
    )
    assert "now awaiting a second approver" in page.content.decode()
    disclosure.refresh_from_db()
    assert disclosure.awaiting_second_approver
    assert not disclosure.is_withheld
    assert exported(person) != []  # not withheld until approved
    staff_client(second).post(
        DISCLOSURES,
        {"action": "approve_withholding", "_selected_action": [disclosure.pk]},
    )
    disclosure.refresh_from_db()
    assert disclosure.is_withheld
    assert exported(person) == []
