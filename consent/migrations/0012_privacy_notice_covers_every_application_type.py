"""Publishes privacy notice 1.8: applications are no longer only for
apprenticeships. Staff can add other kinds of application on the website
(`funding.ApplicationType`), so the notice's sentence about applications and
its purpose row say "an apprenticeship or anything else we offer". Idempotent
(tests on a reused database run it again)."""

from django.db import migrations
from django.utils import timezone

VERSION = "1.8"
PREVIOUS = "1.7"

OLD = (
    "If you apply for an apprenticeship, we hold the programme, your employer, "
    "your manager's name and work email, your personal statement and our decision."
)
NEW = (
    "If you apply for an apprenticeship or anything else we offer on our website "
    "(a fellowship or a placement, for example), we hold what you apply for, "
    "your employer, your manager's name and work email when the application "
    "asks for them, your statement and our decision."
)
SUMMARY = (
    "Applications are no longer only for apprenticeships: the notice now covers "
    "every kind of application you can make on our website."
)


def forwards(apps, schema_editor):
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    ProcessingPurpose = apps.get_model("consent", "ProcessingPurpose")
    earlier = PolicyVersion.objects.filter(kind="privacy", version=PREVIOUS).first()
    if earlier is not None:
        PolicyVersion.objects.get_or_create(
            kind="privacy",
            version=VERSION,
            defaults={
                "body": earlier.body.replace(OLD, NEW),
                "published_at": timezone.now(),
                "summary_of_changes": SUMMARY,
            },
        )
    ProcessingPurpose.objects.filter(name="Apprenticeship applications").update(
        description="Handling applications for apprenticeship programmes and the "
        "other kinds of application we offer on our website.",
        data_categories="What you apply for, employer, manager's name and email "
        "when asked, your statement, decision",
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0011_contact_points")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
