from django.db import migrations
from django.utils import timezone

PRIVACY = """## Who we are
This service books continuing professional development (CPD) courses, sessions and webinars for staff in schools, primary care and local services. We are the data controller for the personal data it holds.

## What we hold about you
- Your account: name, work email address and a securely hashed password.
- Your profile, if you give it: phone number, postal address, workplace and job title.
- Equality monitoring answers, only if you choose to give them: gender, year of birth, ethnic group and disability. Each question has "prefer not to say". Staff cannot see your answers; they are only reported as totals for groups large enough that no one can be identified.
- Your bookings, waiting-list places, attendance, evaluations you write, training you record from elsewhere (with any evidence you upload) and your transaction history.
- Your contact choices, with the date, how you made them and the version of this notice you saw.

## Sharing
When you book a course run by a third-party provider that needs an attendee list, we share only your name and work email address with that provider, and we keep a record of each time we do. We do not sell your data.

## Messages
We always send messages about your bookings, such as confirmations, waiting-list news, cancellations and reminders. We send offers and news only if you have said yes for that channel, and you can change your mind at any time on the preferences page or with the unsubscribe link in any offer.

## How long we keep it
Your training record and transaction history are kept for the life of your account, so that you can rely on them. Transactions are kept longer where accounting law requires it.

## Your rights
You can ask for a copy of your data, ask us to correct or erase it, restrict how we use it or object to its use, by contacting our data protection lead. You can also complain to the Information Commissioner's Office."""

COOKIES = """## Essential cookies
These make the service work and are always set:
- sessionid: keeps you signed in (two weeks, or until you sign out).
- csrftoken: protects forms from being sent by other websites (one year).
- messages: shows a confirmation after you do something (until you close your browser).
- cookie_choice: remembers your choice about analytics cookies (one year).

## Analytics cookies
Only if you accept them, we set cpd_analytics_id, a random identifier that lets us count how pages are used so that we can improve the service (13 months). We do not use any third-party analytics or advertising cookies. If your browser sends a Global Privacy Control signal, we treat it as a refusal."""

PURPOSES = [
    ("Your account and bookings", "Creating your account, booking your places, running the waiting list and sending messages about your bookings.", "contract", "Name, work email, bookings", "Third-party course providers: name and work email only, when you book their course", "For the life of your account"),
    ("Training record", "Keeping the sessions you attended and training you add, so you can show your CPD.", "contract", "Bookings, attendance, training you add, evidence files", "", "For the life of your account"),
    ("Payments and invoices", "Charging for paid courses, refunds and payments.", "legal_obligation", "Name, transactions, invoice and purchase-order numbers", "", "For the life of your account, and as long as accounting law requires"),
    ("Offers and news", "Sending offers and news by the channels you choose.", "consent", "Name, contact details you choose", "", "Until you withdraw your consent"),
    ("Partner offers by post", "Posting offers from organisations we work with; we send them ourselves.", "consent", "Name, postal address", "", "Until you withdraw your consent"),
    ("Equality monitoring", "Checking our training reaches people fairly, reported only as totals.", "consent", "Gender, year of birth, ethnic group, disability (all optional)", "", "Until you remove your answers or your account"),
    ("Analytics", "Counting page use to improve the service, only with your agreement.", "consent", "A random identifier and the pages visited", "", "13 months"),
]


def forwards(apps, schema_editor):
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    ProcessingPurpose = apps.get_model("consent", "ProcessingPurpose")
    now = timezone.now()
    PolicyVersion.objects.get_or_create(
        kind="privacy", version="1.0",
        defaults={"body": PRIVACY, "published_at": now, "summary_of_changes": "First version."},
    )
    PolicyVersion.objects.get_or_create(
        kind="cookies", version="1.0",
        defaults={"body": COOKIES, "published_at": now, "summary_of_changes": "First version."},
    )
    for order, (name, description, basis, data, recipients, retention) in enumerate(PURPOSES):
        ProcessingPurpose.objects.get_or_create(
            name=name,
            defaults={
                "description": description, "lawful_basis": basis, "data_categories": data,
                "recipients": recipients, "retention": retention, "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
