"""Publishes privacy notice 1.1 and adds the processing purposes the first
notice left out: funding requests with managers' statements, apprenticeship
applications, invoices and progress records, records imported from HEIs,
borough hubs and commissioners, and what is shared with commissioners,
funders and HEIs. Idempotent (tests on a reused database run it again)."""

from django.db import migrations
from django.utils import timezone

VERSION = "1.1"

SUMMARY = (
    "The notice now covers funding requests and managers' statements, "
    "apprenticeship applications, invoices and progress records, records we "
    "receive from universities, borough training hubs and commissioners, and "
    "the reports we give commissioners, funders and universities."
)

ADDED = """

## Funding for courses run elsewhere
If you ask us to fund a course, we hold the course, its cost and dates, your reasons, your workplace, and your manager's name and work email. We email your manager a one-time link; their statement of support (or not) is kept with your request, as are any supporting documents or managers' letters you or they upload, our decision and any conditions, and the progress of your course (started, completed, withdrawn) that you or we record. Supporting documents and managers' letters are deleted six years after the request is closed or declined.

## Apprenticeship applications
If you apply for an apprenticeship, we hold the programme, your employer, your manager's name and work email, your personal statement and our decision.

## Invoices and payments
For funded courses we record the provider's invoices (supplier, number, amount, date and the invoice file) and the payments made. Funders require us to keep a record of the invoices they paid, so invoices and their files are kept for as long as accounting law and the funder require, even if you ask us to erase your data; your name is then removed from everything except the invoice document itself.

## Records we receive from other organisations
Some records are sent to us rather than given by you: cohort lists and training records from universities and other higher education institutions (HEIs), borough training hubs and commissioners. Each record shows where it came from and when on the "Your data" page and in your download.

## Reports to commissioners, funders and universities
We report to commissioners, funders and universities (HEIs) only as totals: bookings, attendance, funding spent and equality monitoring, with any small number suppressed so that no one can be identified. We do not send them your name or details. When a university or other provider runs a course you book and needs an attendee list, we share only your name and work email, and record each time we do.

## Records that keep the service working
When you send a form, we keep a short record of it (which page, and where it took you) so that sending the same form twice, by a double click or the back button, does not book, request or email twice. These form records are deleted after a day, and when your data is erased."""

PURPOSES = [
    (
        "Funding requests",
        "Deciding on requests to fund courses run elsewhere, with your manager's "
        "statement of support, supporting documents and managers' letters, and "
        "recording the progress of funded courses.",
        "public_task",
        "Name, work email, workplace, course and cost, your reasons, your "
        "manager's name, email and statement, documents and letters, progress",
        "",
        "Documents and letters: six years after the request is closed or "
        "declined; the request: for the life of your account",
    ),
    (
        "Apprenticeship applications",
        "Handling applications for apprenticeship programmes.",
        "public_task",
        "Programme, employer, manager's name and email, personal statement, decision",
        "",
        "For the life of your account",
    ),
    (
        "Invoices and payments for funded courses",
        "Recording providers' invoices and the payments made for funded "
        "courses, as funders and accounting law require.",
        "legal_obligation",
        "Invoice supplier, number, amount, date and file; payments",
        "Funders, who may audit the invoices they paid",
        "As long as accounting law and the funder require, even after erasure "
        "(without your name)",
    ),
    (
        "Records received from other organisations",
        "Adding people, bookings and training records sent to us by "
        "universities and other higher education institutions (HEIs), borough "
        "training hubs and commissioners; each shows its source to you.",
        "public_task",
        "Name, work email, workplace, bookings, training records, the source "
        "and date of import",
        "",
        "For the life of your account",
    ),
    (
        "Reports to commissioners, funders and HEIs",
        "Reporting bookings, attendance, funding and equality monitoring as "
        "totals, with small numbers suppressed so no one can be identified.",
        "public_task",
        "Counts only, never names or details",
        "Commissioners, funders and higher education institutions (HEIs): totals only",
        "Reports: six years",
    ),
]


def forwards(apps, schema_editor):
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    ProcessingPurpose = apps.get_model("consent", "ProcessingPurpose")
    first = PolicyVersion.objects.filter(kind="privacy", version="1.0").first()
    body = (first.body if first else "").rstrip() + ADDED
    PolicyVersion.objects.get_or_create(
        kind="privacy",
        version=VERSION,
        defaults={
            "body": body,
            "published_at": timezone.now(),
            "summary_of_changes": SUMMARY,
        },
    )
    start = ProcessingPurpose.objects.count()
    for order, (name, description, basis, data, recipients, retention) in enumerate(
        PURPOSES, start=start
    ):
        ProcessingPurpose.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "lawful_basis": basis,
                "data_categories": data,
                "recipients": recipients,
                "retention": retention,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_first_policies_and_purposes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
