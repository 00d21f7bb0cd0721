"""Publishes privacy notice 1.6: closing an account, asking for a correction
from the service (and what the audit trail keeps of a corrected value), and
backups (how long they are kept and why an erased person does not come back
from one). Idempotent (tests on a reused database run it again)."""

from django.db import migrations

from consent.notice_migrations import publish_privacy_notice

VERSION = "1.6"

SUMMARY = (
    "The notice now covers closing your account, asking us to correct your "
    "information from the service, and our backups."
)

ADDED = """

## Closing your account
You can close your account from "Your account". Closing is not erasure: you can no longer sign in, we stop all marketing to you, and your future places are cancelled and offered to the next person waiting; your training record and transactions are kept for the retention period. We may also need to close your account when a choice you make means we can no longer keep it (for example, if you restrict our use of information a booking needs). We will email you first, with the reason, and the account closes after a notice period. Ask us within six years to reopen a closed account; after that it is erased.

## Asking us to correct your information
On "Your data" you can ask us to correct information you cannot change yourself, or to find information you cannot locate, and see each request's state and when it is due. When we correct a field, our audit trail keeps the old and the new value for twelve months, so that we can show what we changed; nothing else keeps the old value.

## Backups
We back up the service every night and keep each backup for 30 days, so that nothing you have saved is lost if a server fails. If you ask us to erase your data, it leaves our backups when they expire; if we ever restore a backup, we erase you again before the service is used, from a record of erasures that holds only an account number and a date."""

PURPOSES = [
    (
        "Backups",
        "Keeping a copy of the service's data so that it can be restored after "
        "a failure.",
        "legitimate_interests",
        "Everything the service holds",
        "",
        "30 days; erasures are applied again after any restore",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.5",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_privacy_notice_covers_disclosures_and_transmission")
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
