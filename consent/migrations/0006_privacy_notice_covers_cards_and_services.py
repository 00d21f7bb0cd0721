"""Publishes privacy notice 1.4: paying by card through Stripe Checkout, and
buying services other than course places. Idempotent (tests on a reused
database run it again)."""

from django.db import migrations
from consent.notice_migrations import publish_privacy_notice

VERSION = "1.4"

SUMMARY = (
    "The notice now covers paying by card (through Stripe, our card payment "
    "processor) and other services you buy from us, such as subscriptions, "
    "consultancy days and resource packs."
)

ADDED = """

## Paying by card
You can pay what you owe by card. When you choose to pay by card you are taken to a payment page run by Stripe, our card payment processor, and your card details go straight to Stripe: they never reach our servers. We send Stripe the amount, your email address (so Stripe can send you its own receipt) and a reference to your payment; Stripe tells us whether the payment succeeded and gives us its own reference for it. If a place you paid for by card is cancelled in time, the refund goes back to your card through Stripe and appears in your transaction history when Stripe confirms it. Stripe processes card payments under its own obligations as a payment service; we keep the date, amount and Stripe's reference of each card payment in your transaction history.

## Other services you buy
Besides places on courses, we sell other services, such as an annual safeguarding subscription for a school, consultancy days and resource packs. When you buy one, for yourself or for your organisation, we record what you bought, when, the price and who it is for, and the charge appears in your transaction history (or your organisation's account). Accounting law requires purchases and payments to be kept for six years, so if you ask us to erase your data they stay, with their dates and amounts, against an anonymous account. Your purchases are in your download from "Your data"."""

PURPOSES = [
    (
        "Payments by card",
        "Taking card payments through Stripe Checkout, recording each payment "
        "once and refunding cancelled places to the card.",
        "contract",
        "The amount, your email address, and Stripe's reference for each "
        "payment or refund (never your card details)",
        "Stripe (card payment processor)",
        "Six years (accounting law); your name is removed on erasure",
    ),
    (
        "Other services you buy",
        "Selling and providing services other than course places, and "
        "charging for them.",
        "contract",
        "What you bought, when, the price, and who it is for",
        "",
        "Six years (accounting law); your name is removed on erasure",
    ),
]


def forwards(apps, schema_editor):
    publish_privacy_notice(
        apps,
        version=VERSION,
        previous="1.3",
        added=ADDED,
        summary=SUMMARY,
        purposes=PURPOSES,
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_privacy_notice_covers_bank_transfers")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
