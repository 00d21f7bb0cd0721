"""Today's fixed apprenticeship form becomes the first application type, and
every existing application (all apprenticeships) is given it. The renamed
model's permissions (`change_application`, `view_application`) are created
and granted to every group and person who held the old ones, so officers keep
their access; the old permissions stay until a later contract step, for the
release still serving during the upgrade. Idempotent: tests on a reused
database run it again."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPRENTICESHIP = {
    "name": "Apprenticeship",
    "summary": "Apply for an apprenticeship programme while you work.",
    "guidance": (
        "Tell us which apprenticeship programme you are interested in, where "
        "you work and who your manager is. We will review your application "
        "and tell you our decision by email."
    ),
    "subject_label": "Which apprenticeship programme are you interested in?",
    "subject_hint": "For example, Nursing Associate (level 5)",
    "statement_label": "Personal statement",
    "statement_hint": "Why you want to do it and how it fits your role.",
    "needs_manager": True,
    "is_open": True,
    "order": 0,
}


def forwards(apps, schema_editor):
    ApplicationType = apps.get_model("funding", "ApplicationType")
    Application = apps.get_model("funding", "Application")
    kind, _ = ApplicationType.objects.get_or_create(
        slug="apprenticeship", defaults=APPRENTICESHIP
    )
    Application.objects.filter(type__isnull=True).update(type=kind)

    app_config = apps.get_app_config("funding")
    original = getattr(app_config, "models_module", None)
    app_config.models_module = original or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = original
    Permission = apps.get_model("auth", "Permission")
    for action in ("add", "change", "delete", "view"):
        old = Permission.objects.filter(
            content_type__app_label="funding",
            codename=f"{action}_apprenticeshipapplication",
        ).first()
        new = Permission.objects.filter(
            content_type__app_label="funding", codename=f"{action}_application"
        ).first()
        if old is None or new is None:
            continue
        for group in old.group_set.all():
            group.permissions.add(new)
        for user in old.user_set.all():
            user.user_permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("funding", "0006_application_types"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
