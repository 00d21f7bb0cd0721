"""Mail tasks never wait longer than the broker's visibility timeout: Redis
would hand a task waiting longer to a second worker while the first holds it."""

from config.outbox import task_retry_countdown


def test_task_retries_back_off_and_stay_below_the_visibility_timeout(settings):
    settings.CELERY_VISIBILITY_TIMEOUT_SECONDS = 600
    delays = [task_retry_countdown(n) for n in range(9)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays == sorted(delays)
    assert max(task_retry_countdown(n, jitter=15) for n in range(20)) < 600


def test_a_shorter_visibility_timeout_shortens_the_cap(settings):
    settings.CELERY_VISIBILITY_TIMEOUT_SECONDS = 120
    assert task_retry_countdown(8, jitter=15) < 120


def test_each_mail_names_the_outbox_row_it_was_sent_from(verified_user):
    from django.core import mail

    from bookings import services
    from bookings.models import MailRecord
    from config.outbox import OUTBOX_HEADER
    from tests.courses.factories import SessionFactory

    booking = services.book_session(verified_user, SessionFactory.create())
    record = MailRecord.objects.get(booking=booking)
    mail.outbox.clear()
    assert services.send_mail_record(record.pk) is True
    (sent,) = mail.outbox
    assert sent.extra_headers[OUTBOX_HEADER] == f"bookings.MailRecord:{record.pk}"
    assert f"{OUTBOX_HEADER}: bookings.MailRecord:{record.pk}" in str(sent.message())
