"""Publishes privacy notice 1.5: who else we may share data with (and that
each disclosure is recorded and shown to the person unless an exemption
applies), and sending a person's data straight to another organisation.
Idempotent (tests on a reused database run it again)."""

from django.db import migrations
from consent.notice_migrations import publish_privacy_notice

VERSION = "1.5"

SUMMARY = (
    "The notice now lists everyone we may share your data with, says that we "
    "record each disclosure and show it to you, and explains how we send your "
    "data straight to another organisation when you ask."
)

ADDED = """

## Who else we may share your data with
Besides course providers, we may share your data with any law enforcement agency, court, regulator, government authority or other third party where we believe this is necessary to comply with the law or to protect your or someone else's interests; with our professional advisers; with higher education institutions; with our commissioners (including NHS England); with our funding providers; and with another organisation when you ask us to. We record each disclosure: who received it, what kind of organisation they are, the lawful basis, what was shared and why. You can see these records on "Your data" and in your download. In rare cases the law lets us withhold a record from you, for example where telling you would prejudice the prevention or detection of crime or legal proceedings; a second member of our data protection team must approve each such decision.

## Sending your data to another organisation
You can ask us, on "Your data", to send your data straight to another organisation (data portability). You give us the organisation's name and email address; once we have checked it is you, we email them a link to the same machine-readable data you can download yourself. The link works once and expires after 72 hours. We keep the organisation's name and address, when we sent the link and when it was used, and we record the disclosure. The file is deleted once it has been collected or the link has expired; if you ask us to erase your data, the address is removed and the link stops working."""

PURPOSES = [
    (
        "Disclosures to other organisations",
        "Sharing personal data with law enforcement, courts, regulators, "
        "government authorities, our professional advisers, higher education "
        "institutions, commissioners (including NHS England) and funding "
        "providers where the law or our work requires it, and recording each "
        "disclosure.",
        "legal_obligation",
        "What each disclosure needs, and a record of who received what, when "
        "and why",
        "The organisations named, case by case",
        "The record of each disclosure is kept for the life of your account, "
        "and against the anonymised account after erasure",
    ),
    (
        "Sending your data to another organisation",
        "Sending a copy of your data to an organisation you name (data "
        "portability), by a link that works once and expires.",
        "legal_obligation",
        "Everything in your download; the organisation's name and email "
        "address; when the link was sent and used",
        "The organisation you name",
        "The file until it is collected or the link expires; the record of "
        "the disclosure as above",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.4",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_privacy_notice_covers_cards_and_services")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
