"""Publishes privacy notice 1.2: organisations (membership, the roles of
bookers, approvers and finance contacts, approvals, charging places to an
organisation's account and its invoices) and signing in with a work account
(single sign-on through OpenID Connect: what the provider sends, what is kept,
when it is linked to an existing account, and that erasure deletes it).
Idempotent (tests on a reused database run it again)."""

from django.db import migrations
from consent.notice_migrations import publish_privacy_notice

VERSION = "1.2"

SUMMARY = (
    "The notice now covers your membership of your workplace's account with us: "
    "what its bookers, approvers and finance contacts can see and do for you, "
    "approval of your bookings, places charged to your organisation and its "
    "invoices, and signing in with your work account."
)

ADDED = """

## Your organisation
When you choose your workplace, you ask to join its account with us. One of its approvers (or our staff) confirms that you work there; until then nothing is charged to your organisation for you and its bookers cannot book for you.

Your organisation can name bookers (who book places for its members), approvers (who confirm members, approve members' bookings and support their funding requests) and finance contacts (who see its account and invoices). For its confirmed members, bookers and approvers see your name, job title, your upcoming bookings and your CPD hours this year, and can book, swap or cancel places for you; you are told by email each time. They never see your equality monitoring answers, and nobody at another organisation sees anything about you. Every action taken for you is recorded with who took it, and appears in your download. If you are a booker or approver yourself, what you do for others is recorded as done by you.

If your organisation asks to approve bookings, your place is held while its approver decides; if nobody decides in time, the place is released and you are told.

## Places charged to your organisation
If your organisation pays on account, the places charged to it appear on its invoices with your name and the course. Accounting law requires invoices to be kept, so if you ask us to erase your data the invoice is kept but your name is removed from it.

## Signing in with your work account
If you choose to sign in with your work account (for example NHSmail or your school's Microsoft account), your employer's sign-in service tells us who you are: an identifier for you, your name, your work email address and whether it has checked that address. We keep that identifier and what the service sent with it, linked to your account here, so that you can sign in the same way next time; we never receive or keep your work account's password, and we do not keep the service's access tokens. We link a work account to an account you already have here only when both the sign-in service and we have checked that the email address is yours. The linked sign-ins are in your download from "Your data", and are deleted when your data is erased."""

PURPOSES = [
    (
        "Organisation accounts and approvals",
        "Letting schools, practices and services book, approve and pay for "
        "their staff's training, and telling members what was done for them.",
        "public_task",
        "Name, work email, job title, membership and roles, bookings made or "
        "approved for you and by whom, CPD hours this year",
        "Your organisation's bookers, approvers and finance contacts",
        "Membership: until you or your organisation end it; invoices: six years",
    ),
    (
        "Signing in with your work account",
        "Letting you sign in with the account your workplace gives you, and linking it to your account here when both sides have checked the email address is yours.",
        "contract",
        "The identifier, name and work email your employer's sign-in service sends",
        "",
        "For the life of your account, or until the link is removed",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.1",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_privacy_notice_covers_funding_imports_and_reports")
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
