"""Publishes privacy notice 1.7: surveys (a new `surveys` choice), partner
offers by email, how we measure whether our offers work, what first-party
analytics records, and the service-performance counts that hold nothing about
anyone. Idempotent (tests on a reused database run it again)."""

from django.db import migrations

from consent.notice_migrations import publish_privacy_notice

VERSION = "1.7"

SUMMARY = (
    "The notice now covers surveys, partner offers by email, how we measure "
    "whether our offers work, and what our own analytics records."
)

ADDED = """

## Surveys
If you say yes to surveys on the preferences page, we may email you short surveys about training and the service. You can say no at any time there or with the link in any survey email. Your answers are linked to your account so that you answer each survey once and can see, download or erase them; staff see them only as totals, a total of fewer than 5 answers is never shown, and free-text answers are shown without your name. We delete survey answers after 24 months.

## Partner offers by email
Offers from partner organisations can come by email as well as by post, only if you say yes for email. We send them ourselves; partners never receive your details, only totals for their offers.

## Measuring our offers
For each offer or survey we email, we count whether it was delivered and whether you unsubscribed through it. Only if you have accepted analytics, and have not objected to analytics or to profiling, the email also holds a small image from our own website that tells us it was opened, and its links pass through our own website so that we know which were followed. These links and the image carry a random code, never your name or email address. We use them, with whether you booked a course within 14 days after opening or following a link, to work out how well each offer works, reported to staff only as totals per offer and per partner. These records are kept as long as the record of the message (400 days).

## Analytics
Only if you accept analytics cookies, we record in our own database, with no third party: the pages you view (the address without anything typed into it), the page you came from, the time, your browser, operating system and kind of device, your time zone, what you search for on this service and how many results it found, how long you stay on a page, how far you scroll, and which links to other websites you follow. Your page views are tied together only within one day, by a code that changes every day, and we keep only the first part of your IP address. If you are signed in, your page views and searches also carry a code made from your account (never your name or email address), only so that they are in your download of your data and are deleted when you ask us to erase it; staff never see whose they are. Nothing is recorded if you reject analytics cookies, if your browser sends Global Privacy Control, if you object to analytics, or while you have restricted our use of your data. We delete these records after 26 months.

## Service performance
For every request the service counts, per kind of page and per minute, how long it took, how many database queries it made and whether it failed. These counts hold nothing about you."""

PURPOSES = [
    (
        "Surveys",
        "Emailing short surveys about training and the service, and reporting "
        "the answers as totals.",
        "consent",
        "Name, work email, your answers",
        "",
        "24 months",
    ),
    (
        "Measuring our offers",
        "Counting deliveries, opens, links followed, unsubscribes and bookings "
        "after an offer, as totals per offer and per partner; opens and links "
        "only with your agreement to analytics.",
        "legitimate_interests",
        "Whether an email was delivered, opened or followed, and bookings made "
        "within 14 days",
        "Partners: totals for their offers only",
        "400 days",
    ),
    (
        "Service performance",
        "Counting response times, database queries and errors per kind of page, "
        "to keep the service fast and working.",
        "legitimate_interests",
        "None about you: counts per kind of page and minute",
        "",
        "26 months",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.6",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )
    # The first notice's analytics row named only the cookie's life; say what
    # is recorded and how long the records are kept.
    apps.get_model("consent", "ProcessingPurpose").objects.filter(
        name="Analytics"
    ).update(
        data_categories="A code that changes daily, pages viewed, searches, time "
        "on page, scrolling, links followed, browser, device, time zone, the "
        "first part of the IP address; when signed in, a code made from your "
        "account so that erasure deletes them",
        retention="Cookie: 13 months; records: 26 months",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_privacy_notice_covers_closure_corrections_and_backups")
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
