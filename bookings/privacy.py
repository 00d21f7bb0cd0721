"""What the bookings app holds about a person, and how it is exported and erased.

Bookings, evaluations' ratings and transactions stay as anonymous rows (their
person is the anonymised account) so that attendance and money add up; what the
person wrote and any files they uploaded are removed.
"""

from django.utils import timezone

from privacy.registry import (
    Category,
    not_personal,
    register,
    register_on_closure,
    register_on_restriction,
    register_retention,
)

from .models import (
    Booking,
    Evaluation,
    MailRecord,
    PriorLearning,
    StaffLog,
    Transaction,
)


def export_bookings(person) -> list[dict]:
    return [
        {
            "course": b.session.course.title,
            "session_starts_at": timezone.localtime(b.session.starts_at),
            "status": b.get_status_display(),
            "booked_at": b.created_at,
            "cancelled_at": b.cancelled_at,
            "cancel_reason": b.cancel_reason,
            "charged_to_organisation": b.organisation.name if b.organisation else "",
            "purchase_order": b.purchase_order,
            # Who acted on the person's behalf: a booker, an approver, our staff.
            "booked_by": str(b.booked_by) if b.booked_by else "",
            "approval_needed_from": (
                b.approval_organisation.name if b.approval_organisation else ""
            ),
            "approved_by": str(b.approved_by) if b.approved_by else "",
            "approved_at": b.approved_at,
            "cancelled_by": (
                str(b.cancelled_by)
                if b.cancelled_by and b.cancelled_by_id != person.pk
                else ""
            ),
            "certificate_code": b.certificate_code or "",
            "imported_from": b.import_source,
            "imported_at": b.imported_at,
        }
        for b in Booking.objects.filter(person=person).select_related(
            "session__course",
            "organisation",
            "approval_organisation",
            "booked_by",
            "approved_by",
            "cancelled_by",
        )
    ]


def erase_bookings(person) -> None:
    from .services import withdraw_person_from_future_sessions

    # Future places and waiting-list places go first, to the next person
    # waiting, so nothing is ever offered or mailed to the erased account.
    withdraw_person_from_future_sessions(
        person, by=None, reason="Withdrawn: personal data erased", notify=False
    )
    Booking.objects.filter(person=person).update(
        cancel_reason="", certificate_code=None
    )
    StaffLog.objects.filter(booking__person=person).update(detail="")


def export_evaluations(person) -> list[dict]:
    return [
        {
            "course": e.booking.session.course.title,
            "rating": e.rating,
            "comments": e.comments,
            "created_at": e.created_at,
        }
        for e in Evaluation.objects.filter(booking__person=person).select_related(
            "booking__session__course"
        )
    ]


def erase_evaluations(person) -> None:
    Evaluation.objects.filter(booking__person=person).update(comments="")


def export_prior_learning(person) -> list[dict]:
    return [
        {
            "title": p.title,
            "provider": p.provider_name,
            "completed_on": p.completed_on,
            "cpd_hours": p.cpd_hours,
            "notes": p.notes,
            "evidence_file": p.evidence.name.rsplit("/", 1)[-1] if p.evidence else "",
            "imported_from": p.import_source,
            "imported_at": p.imported_at,
        }
        for p in PriorLearning.objects.filter(person=person)
    ]


def erase_prior_learning(person) -> None:
    for item in PriorLearning.objects.filter(person=person):
        if item.evidence:
            item.evidence.delete(save=False)
        item.delete()


def prior_learning_files(person) -> list:
    return [
        p.evidence for p in PriorLearning.objects.filter(person=person) if p.evidence
    ]


def export_transactions(person) -> list[dict]:
    return list(
        Transaction.objects.filter(person=person)
        .order_by("created_at")
        .values(
            "created_at",
            "kind",
            "amount",
            "description",
            "reference",
            "means",
            "provider_reference",
        )
    )


def export_mail(person) -> list[dict]:
    return list(
        MailRecord.objects.filter(booking__person=person).values(
            "kind",
            "to",
            "subject",
            "body",
            "status",
            "last_error",
            "created_at",
            "sent_at",
        )
    )


def erase_mail(person) -> None:
    MailRecord.objects.filter(booking__person=person).delete()


not_personal(
    Booking,
    ["purchase_order"],
    reason="The organisation's purchase-order number for the place.",
)
register(
    Category(
        name="bookings",
        model=Booking,
        fields=["cancel_reason", "certificate_code"],
        export=export_bookings,
        erase=erase_bookings,
        note="Kept as anonymous rows so that attendance and counts stay right.",
    )
)
register(
    Category(
        name="evaluations",
        owner="booking__person",
        model=Evaluation,
        fields=["comments"],
        export=export_evaluations,
        erase=erase_evaluations,
        note="Ratings are kept anonymously; comments are removed.",
    )
)
register(
    Category(
        name="training_done_elsewhere",
        model=PriorLearning,
        fields=["title", "provider_name", "notes"],
        files=["evidence"],
        export=export_prior_learning,
        erase=erase_prior_learning,
        note="Deleted, with any evidence files.",
    )
)
register(
    Category(
        name="transactions",
        kept_on_erasure={
            "description": "Financial records are kept for six years (HMRC); written by our code or staff about the payment, not about the person.",
            "reference": "Financial records are kept for six years (HMRC); written by our code or staff about the payment, not about the person.",
            "provider_reference": "Financial records are kept for six years (HMRC); the bank's or card provider's id for the payment, so it is recorded once.",
        },
        model=Transaction,
        fields=["description", "reference", "provider_reference"],
        export=export_transactions,
        erase=lambda person: None,
        note="Kept, with amounts and dates, against the anonymised account, as "
        "accounting law requires.",
    )
)
register(
    Category(
        name="messages_sent",
        owner="booking__person",
        model=MailRecord,
        fields=["to", "subject", "body", "last_error"],
        export=export_mail,
        erase=erase_mail,
        note="The record of booking messages sent to you is deleted.",
    )
)
register(
    Category(
        name="staff_actions",
        owner="booking__person",
        model=StaffLog,
        fields=["detail"],
        export=lambda person: [
            {
                "created_at": entry.created_at,
                "action": entry.action,
                "detail": entry.detail,
                "by": str(entry.actor) if entry.actor else "",
            }
            for entry in StaffLog.objects.filter(booking__person=person)
            .select_related("actor")
            .order_by("created_at", "pk")
        ],
        erase=lambda person: None,
        note="Kept as a record of what staff, bookers and approvers did on "
        "your behalf; notes about you are cleared.",
    )
)


def export_actions_for_others(person) -> list[dict]:
    """What the person did for other people (as one of our staff, or as an
    organisation's booker or approver), without those people's names: that is
    their data, not this person's."""
    return [
        {
            "created_at": entry.created_at,
            "action": entry.action,
            "session": str(entry.session) if entry.session else "",
            "booking_reference": entry.booking_id or "",
        }
        for entry in StaffLog.objects.filter(actor=person)
        .exclude(booking__person=person)
        .select_related("session__course")
        .order_by("created_at", "pk")
    ]


register(
    Category(
        name="actions_for_others",
        owner="actor",
        model=StaffLog,
        fields=["action"],
        export=export_actions_for_others,
        # Deleting the account clears `actor` (SET_NULL); an erased account is
        # anonymised, so the rows no longer say who acted.
        erase=lambda person: None,
        kept_on_erasure={
            "action": "What was done to someone else's booking is their record; "
            "it no longer says who did it once the account is anonymised.",
        },
        note="What you did for others as staff, booker or approver.",
    )
)


def withdraw_restricted(person, by) -> None:
    """Restriction stops service: future places and waiting-list places are
    cancelled (the person is told) and passed to the next person waiting."""
    from .services import withdraw_person_from_future_sessions

    withdraw_person_from_future_sessions(
        person, by=by, reason="Withdrawn: processing restricted", notify=True
    )


register_on_restriction("future bookings", withdraw_restricted)


def withdraw_closed(person, by) -> None:
    """A closed account keeps no place: future places and waiting-list places
    are cancelled (refunded in full) and passed to the next person waiting.
    No mail per booking: the closure mail says so, once."""
    from .services import withdraw_person_from_future_sessions

    withdraw_person_from_future_sessions(
        person, by=by, reason="Withdrawn: account closed", notify=False
    )


register_on_closure("future bookings", withdraw_closed)


def remove_old_mail_records() -> int:
    """Sent booking messages are kept as proof of sending for a limited time."""
    import datetime as dt

    from django.conf import settings

    cutoff = timezone.now() - dt.timedelta(
        days=settings.PRIVACY_RETENTION["mail_records_days"]
    )
    removed, _ = MailRecord.objects.filter(
        status="sent", created_at__lt=cutoff
    ).delete()
    return removed


register_retention("sent booking messages", remove_old_mail_records)
