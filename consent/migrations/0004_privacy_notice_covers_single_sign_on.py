"""Publishes privacy notice 1.2, which covers signing in with a work account
(single sign-on through OpenID Connect, issue 13): what the provider sends us,
what we keep of it, when we link it to an existing account, and that it goes
on erasure. Adds the processing purpose for it. Idempotent (tests on a reused
database run it again)."""

from django.db import migrations
from django.utils import timezone

VERSION = "1.2"
PREVIOUS = "1.1"

SUMMARY = (
    "The notice now covers signing in with your work account (such as NHSmail "
    "or your school's Microsoft account): what your employer's sign-in service "
    "tells us and what we keep of it."
)

ADDED = """

## Signing in with your work account
If you choose to sign in with your work account (for example NHSmail or your school's Microsoft account), your employer's sign-in service tells us who you are: an identifier for you, your name, your work email address and whether it has checked that address. We keep that identifier and what the service sent with it, linked to your account here, so that you can sign in the same way next time; we never receive or keep your work account's password, and we do not keep the service's access tokens. We link a work account to an account you already have here only when both the sign-in service and we have checked that the email address is yours. The linked sign-ins are in your download from "Your data", and are deleted when your data is erased."""

PURPOSE = (
    "Signing in with your work account",
    "Letting you sign in with the account your workplace gives you, and "
    "linking it to your account here when both sides have checked the email "
    "address is yours.",
    "contract",
    "The identifier, name and work email your employer's sign-in service sends",
    "",
    "For the life of your account, or until the link is removed",
)


def forwards(apps, schema_editor):
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    ProcessingPurpose = apps.get_model("consent", "ProcessingPurpose")
    previous = PolicyVersion.objects.filter(kind="privacy", version=PREVIOUS).first()
    body = (previous.body if previous else "").rstrip() + ADDED
    PolicyVersion.objects.get_or_create(
        kind="privacy",
        version=VERSION,
        defaults={
            "body": body,
            "published_at": timezone.now(),
            "summary_of_changes": SUMMARY,
        },
    )
    name, description, basis, data, recipients, retention = PURPOSE
    ProcessingPurpose.objects.get_or_create(
        name=name,
        defaults={
            "description": description,
            "lawful_basis": basis,
            "data_categories": data,
            "recipients": recipients,
            "retention": retention,
            "order": ProcessingPurpose.objects.count(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_privacy_notice_covers_funding_imports_and_reports")
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
