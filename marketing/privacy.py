"""What marketing holds about a person: which campaigns reached them. Campaign
text is written by staff for everyone and is not personal data."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from privacy.registry import (
    Category,
    not_personal,
    register,
    register_on_objection,
    register_on_restriction,
    register_retention,
)

from .models import Campaign, Delivery


def export_deliveries(person) -> list[dict]:
    return [
        {
            "campaign": d.campaign.name,
            "purpose": d.campaign.get_purpose_display(),
            "channel": d.campaign.get_channel_display(),
            "outcome": d.get_status_display(),
            "error": d.error,
            "at": d.sent_at or d.created_at,
            "measuring_code": d.track_code,
            "opened_at": d.opened_at,
            "clicked_at": d.clicked_at,
            "links_followed": d.clicks,
            "first_opened_or_clicked_at": d.engaged_at,
            "unsubscribed_at": d.unsubscribed_at,
        }
        for d in Delivery.objects.filter(person=person).select_related("campaign")
    ]


def erase_deliveries(person) -> None:
    # The rows stay, against the anonymised account, so campaign counts stay
    # right; an error message can quote the address, so it goes, and so does
    # the measuring code (a link in an old email no longer leads to the row).
    Delivery.objects.filter(person=person).update(error="", track_code=None)


register(
    Category(
        name="marketing_messages",
        model=Delivery,
        fields=[
            "error",
            "track_code",
            "opened_at",
            "clicked_at",
            "clicks",
            "engaged_at",
            "unsubscribed_at",
        ],
        export=export_deliveries,
        erase=erase_deliveries,
        kept_on_erasure={
            name: "Kept against the anonymised account so that each "
            "campaign's totals stay right."
            for name in (
                "opened_at",
                "clicked_at",
                "clicks",
                "engaged_at",
                "unsubscribed_at",
            )
        },
        note="Kept as anonymous counts; any error text and measuring code are removed.",
    )
)
not_personal(
    Campaign,
    ["name", "partner_name", "job_titles", "areas", "subject", "body"],
    reason="Campaign text and audience choices written by staff for everyone.",
)


def remove_old_deliveries() -> int:
    """Delivery rows of finished campaigns are kept as proof of sending for as
    long as booking messages are."""
    cutoff = timezone.now() - dt.timedelta(
        days=settings.PRIVACY_RETENTION["mail_records_days"]
    )
    removed, _ = Delivery.objects.filter(
        campaign__finished_at__lt=cutoff,
        campaign__status__in=[Campaign.Status.SENT, Campaign.Status.STOPPED],
    ).delete()
    return removed


register_retention("marketing delivery records", remove_old_deliveries)


def _forget_measuring(person, *_args) -> None:
    from .services import forget_measuring

    forget_measuring(person)


# An objection to analytics or profiling, or a restriction, removes what was
# measured about the person and stops any more being recorded.
register_on_objection(
    "marketing measuring",
    lambda person, purpose: (
        _forget_measuring(person) if purpose in ("analytics", "profiling") else None
    ),
)
register_on_restriction("marketing measuring", _forget_measuring)
