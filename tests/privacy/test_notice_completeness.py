"""The published privacy notice describes everything the product does: every
purpose in the processing record, every category of data in the registry, and
where imported records come from. A new category fails here until the notice
(a new version, published by a data migration) says what it is."""

import pytest
from django.utils.html import escape

from consent.selectors import policy_current, processing_purposes
from privacy import registry

# How the published notice names each registry category. A category missing
# here fails the test: publish a notice that covers it, then name it here.
NOTICE_TERMS = {
    "account": "work email address",
    # A closed account is the same account row; the notice does not yet say
    # how closing works (a notice version should add it).
    "account_closures": "close your account",
    "profile": "job title",
    "email_addresses": "work email address",
    "bookings": "bookings",
    "evaluations": "evaluations",
    "training_done_elsewhere": "training you record from elsewhere",
    "transactions": "transaction history",
    "messages_sent": "messages about your bookings",
    "staff_actions": "bookings",
    "funding_requests": "fund a course",
    "funding_timeline": "our decision",
    "funding_manager_support": "statement of support",
    "funding_documents": "managers' letters",
    "funding_invoices": "invoices",
    "funding_payments": "payments made",
    "funding_progress": "progress of your course",
    "applications": "anything else we offer on our website",
    "funding_messages": "email your manager",
    "consent_history": "contact choices",
    "data_requests": "your rights",
    "disclosures": "We record each disclosure",
    "data_transmissions": "Sending your data to another organisation",
    "data_transmission_messages": "email them a link",
    "prepared_exports": "a copy of your data",
    "audit": "your rights",
    "marketing_messages": "offers and news",
    "form_submissions": "form records",
    "organisation_memberships": "Your organisation",
    "actions_for_others": "what you do for others",
    "sign_in_providers": "signing in with your work account",
    "organisation_invoice_lines": "the invoice is kept but your name is removed",
    "payment_references": "payment reference",
    "bank_statement_lines": "bank statement",
    "card_payments": "Paying by card",
    "card_refunds": "refund goes back to your card",
    "purchases": "other services you buy",
    "survey_answers": "Your answers are linked to your account",
    "analytics_page_views": "the pages you view",
    "analytics_searches": "what you search for on this service",
    "analytics_engagement": "how long you stay on a page",
    "analytics_outbound_clicks": "which links to other websites you follow",
}

# Where imported records come from, as the issue named them.
IMPORT_SOURCES = (
    "higher education institutions (HEIs)",
    "borough training hubs",
    "commissioners",
)


@pytest.fixture
def notice(client, first_policies):
    return client.get("/privacy/").content.decode()


@pytest.mark.django_db
def test_the_notice_shown_is_the_one_that_covers_funding_imports_and_reports(
    notice,
):
    current = policy_current("privacy")
    assert current.version != "1.0"
    assert f"Version {current.version}" in notice
    for heading in (
        "Funding for courses run elsewhere",
        "Apprenticeship applications",
        "Invoices and payments",
        "Records we receive from other organisations",
        "Reports to commissioners, funders and universities",
    ):
        assert heading in notice


@pytest.mark.django_db
def test_every_purpose_in_the_processing_record_is_in_the_notice(notice):
    purposes = list(processing_purposes())
    assert len(purposes) >= 12
    for purpose in purposes:
        for text in (purpose.name, purpose.description, purpose.retention):
            assert escape(text) in notice, f"{purpose.name}: {text!r} not shown"
        if purpose.recipients:
            assert escape(purpose.recipients) in notice
        assert purpose.get_lawful_basis_display() in notice


@pytest.mark.django_db
def test_every_category_of_the_registry_is_described_in_the_notice(notice):
    body = policy_current("privacy").body.lower()
    names = {c.name for c in registry.categories()}
    assert names - set(NOTICE_TERMS) == set(), "name each new category here"
    for name in names:
        assert NOTICE_TERMS[name].lower() in body, f"the notice omits {name}"


@pytest.mark.django_db
def test_the_notice_names_where_imported_records_come_from_and_who_sees_reports(
    notice,
):
    body = policy_current("privacy").body
    imported = [c.name for c in registry.categories() if _imports(c.model)]
    assert imported, "no category records an import source"
    for source in IMPORT_SOURCES:
        assert source in body
    for recipient in ("commissioners", "funders", "universities (HEIs)"):
        assert recipient in body


def _imports(model) -> bool:
    return any(f.name == "import_source" for f in model._meta.concrete_fields)
