"""Apprenticeship applications become applications of any type that staff
define in admin (`ApplicationType`).

The model is renamed in Django's state only: its table keeps its name, so the
release before this one still reads and writes it during the upgrade (no
`contract` step). The new `type` column allows NULL for the same reason; the
next migration gives every existing row the "Apprenticeship" type."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_account_closure"),
        ("funding", "0005_request_withdraw_documents_reminder"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameModel("ApprenticeshipApplication", "Application"),
                migrations.AlterModelTable(
                    name="application", table="funding_apprenticeshipapplication"
                ),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="ApplicationType",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="As learners see it, for example 'Apprenticeship'.",
                        max_length=200,
                        unique=True,
                        verbose_name="name",
                    ),
                ),
                (
                    "slug",
                    models.SlugField(
                        help_text="The last part of the page address, for example 'apprenticeship'.",
                        unique=True,
                        verbose_name="address",
                    ),
                ),
                (
                    "summary",
                    models.CharField(
                        blank=True,
                        help_text="One sentence shown in the list of applications.",
                        max_length=300,
                        verbose_name="summary",
                    ),
                ),
                (
                    "guidance",
                    models.TextField(
                        blank=True,
                        help_text="Shown above the form: who can apply and what happens next.",
                        verbose_name="guidance",
                    ),
                ),
                (
                    "subject_label",
                    models.CharField(
                        default="What are you applying for?",
                        max_length=200,
                        verbose_name="question: what they apply for",
                    ),
                ),
                (
                    "subject_hint",
                    models.CharField(
                        blank=True,
                        max_length=300,
                        verbose_name="hint for that question",
                    ),
                ),
                (
                    "statement_label",
                    models.CharField(
                        default="Personal statement",
                        max_length=200,
                        verbose_name="question: their statement",
                    ),
                ),
                (
                    "statement_hint",
                    models.CharField(
                        blank=True,
                        help_text="For example 'Why you want to do it and how it fits your role.'",
                        max_length=300,
                        verbose_name="hint for the statement",
                    ),
                ),
                (
                    "needs_manager",
                    models.BooleanField(
                        default=True, verbose_name="ask for the manager's details"
                    ),
                ),
                (
                    "is_open",
                    models.BooleanField(
                        default=True,
                        help_text="When closed, nobody can start or submit an application; those submitted are still decided.",
                        verbose_name="open for applications",
                    ),
                ),
                (
                    "order",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="Lower numbers are listed first.",
                        verbose_name="order",
                    ),
                ),
            ],
            options={
                "ordering": ["order", "name"],
            },
        ),
        migrations.AlterField(
            model_name="application",
            name="manager_email",
            field=models.EmailField(
                blank=True, max_length=254, verbose_name="manager's work email"
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="manager_name",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="manager's name"
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="applications",
                to="accounts.organisation",
                verbose_name="workplace",
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="applications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="programme",
            field=models.CharField(max_length=200, verbose_name="what they apply for"),
        ),
        migrations.AlterField(
            model_name="application",
            name="statement",
            field=models.TextField(verbose_name="statement"),
        ),
        migrations.AddField(
            model_name="application",
            name="type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="applications",
                to="funding.applicationtype",
                verbose_name="type",
            ),
        ),
    ]
