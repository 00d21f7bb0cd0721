"""Publishes privacy notice 1.3: paying by bank transfer (the payment
reference, the bank statement lines we match to it, receipts, and what is
kept on erasure). Idempotent (tests on a reused database run it again)."""

from django.db import migrations
from consent.notice_migrations import publish_privacy_notice

VERSION = "1.3"

SUMMARY = (
    "The notice now covers paying by bank transfer: your payment reference, "
    "the lines of our bank statement we match to it, and your receipts."
)

ADDED = """

## Paying by bank transfer
You can pay what you owe by bank transfer. Your transaction history shows our bank details and a payment reference that is yours alone (an organisation's finance contacts see the organisation's own reference on its account and invoices). The last character of the reference is a check, so a mistyped reference is never matched to someone else.

When your payment reaches our bank, our staff upload the bank statement and we match its lines to payment references. From each line we keep the date, the amount and what your bank sent with it, which is usually your name and the reference. A line we cannot match is looked at by a member of our finance staff, who decides whose payment it is. Every payment is recorded in your transaction history, with a receipt you can print or download.

Accounting law requires payments to be kept for six years, so if you ask us to erase your data your payments stay, with their dates and amounts, against an anonymous account; what your bank sent with them (your name) is removed. Your payment reference and your payments are in your download from "Your data"."""

PURPOSES = [
    (
        "Payments by bank transfer",
        "Matching the bank transfers we receive to the person or organisation "
        "paying, recording each payment once and giving a receipt.",
        "contract",
        "Payment reference, the date and amount of each payment, and what your "
        "bank sent with it (usually your name)",
        "",
        "Six years (accounting law); your name is removed on erasure",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.2",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0004_privacy_notice_covers_organisations")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
