"""Marketing writes: start, schedule and stop campaigns, send their batches,
export call and mailing lists, and one-click unsubscribe.

The rules:
- Consent is asked of `consent.selectors.can_contact` for each person at the
  moment their message is sent, never earlier.
- A `Delivery` row (unique per campaign and person) is claimed before a
  message is sent. A batch run twice, a retried task or two workers on the same
  batch therefore send at most once; a worker that dies mid-send leaves a row
  "sending"; `repair_stale_deliveries` (every few minutes) marks such rows
  "interrupted" (it cannot be proved whether the message went, so it is never
  resent: at most once is the right failure mode for marketing) and lets the
  campaign finish.
- A send that raised (the mail server refused the message or could not be
  reached, so it did not go) is "retrying": `retry_deliveries` (every minute) tries it again
  with config.outbox's back-off until its horizon (OUTBOX_RETRY_HORIZON_HOURS
  after it was queued), each time claiming the row first and asking
  `can_contact` again; still failing then, it is "failed", logged, counted on
  the staff pages, and staff may send it again (`send_deliveries_again`,
  never to an erased person). The campaign stays "sending" while any retry is
  due; stopping it cancels them.
- The audience is streamed as ids in batches; it is never held in memory.
- Only this module sends marketing; transactional mail never comes here.
"""

import csv
import io
import logging
import re
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts.models import User
from config import outbox
from config.spreadsheet import safe_cell
from consent.models import PURPOSE_CHANNELS, Channel, ConsentRecord, Purpose
from consent.selectors import can_contact
from consent.services import update_preferences
from privacy.services import audit

from . import selectors, sms
from .models import Campaign, Delivery

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "marketing.unsubscribe"
PLACEHOLDERS = ("first_name", "recommended_course")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# How often (in recipients) a batch looks again at whether staff stopped it.
STOP_CHECK_EVERY = 100


class MarketingError(Exception):
    """A refusal whose message is safe to show."""


# --- unsubscribe ---------------------------------------------------------------


def unsubscribe_token(
    person: User, *, purpose: str, channel: str, campaign_id: int | None = None
) -> str:
    """Signed, no expiry: a link in an old message must still work. A link in
    a campaign's message also names the campaign, so unsubscribes are counted
    per campaign."""
    value = [person.pk, purpose, channel]
    if campaign_id is not None:
        value.append(campaign_id)
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(value)


def unsubscribe_url(
    person: User, *, purpose: str, channel: str, campaign_id: int | None = None
) -> str:
    token = unsubscribe_token(
        person, purpose=purpose, channel=channel, campaign_id=campaign_id
    )
    return settings.SITE_URL + reverse("marketing:unsubscribe", args=[token])


def _read_token(token: str) -> tuple[User, str, str, int | None]:
    invalid = MarketingError(
        _(
            "This unsubscribe link is not valid. It may have been changed or "
            "copied incompletely."
        )
    )
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        person_id, purpose, channel, *rest = value
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise invalid from exc
    campaign_id = rest[0] if len(rest) == 1 and isinstance(rest[0], int) else None
    if len(rest) > 1 or (rest and campaign_id is None):
        raise invalid
    if channel not in PURPOSE_CHANNELS.get(purpose, ()):
        raise invalid
    person = User.objects.filter(pk=person_id).first()
    if person is None:
        raise invalid
    return person, purpose, channel, campaign_id


def read_unsubscribe_token(token: str) -> tuple[User, str, str]:
    """(person, purpose, channel), or MarketingError for a bad or tampered link."""
    person, purpose, channel, _campaign = _read_token(token)
    return person, purpose, channel


def unsubscribe(token: str) -> ConsentRecord | None:
    """Withdraw the consent the link names. Idempotent: a second click records
    nothing new. Returns the new record, or None when it was already withdrawn.
    A withdrawal through a campaign's link is counted against that campaign."""
    person, purpose, channel, campaign_id = _read_token(token)
    records = update_preferences(
        person, {(purpose, channel): False}, source=ConsentRecord.Source.UNSUBSCRIBE
    )
    if records and campaign_id is not None:
        Delivery.objects.filter(
            campaign_id=campaign_id, person=person, unsubscribed_at__isnull=True
        ).update(unsubscribed_at=timezone.now())
    return records[0] if records else None


# --- composing -------------------------------------------------------------------


def check_placeholders(text: str) -> list[str]:
    """The placeholders in `text` that we do not know (shown to staff)."""
    return sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})


def personalise(text: str, *, first_name: str, recommended: str) -> str:
    # A substitution of known names only: str.format on staff text could reach
    # attributes of the objects passed in.
    if not recommended:
        text = "\n".join(
            line for line in text.splitlines() if line.strip() != "{recommended_course}"
        )
    values = {"first_name": first_name or _("there"), "recommended_course": recommended}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def recommendation_line(person: User) -> str:
    if not selectors.profiling_allowed(person):
        return ""
    course = selectors.recommended_courses(person, limit=1).first()
    if course is None:
        return ""
    return _("Recommended for you: %(title)s %(url)s") % {
        "title": course.title,
        "url": settings.SITE_URL + course.get_absolute_url(),
    }


# --- measuring ----------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_TRAILING = ".,;:!?"


def find_links(text: str) -> list[str]:
    """The web addresses in `text`, each once, in order of first appearance."""
    links: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url not in links:
            links.append(url)
    return links


def campaign_links(campaign: Campaign) -> list[str]:
    """What `campaign.links` holds once it starts: the message's links, then
    the survey's link for a survey."""
    links = find_links(campaign.body)
    if campaign.survey_id:
        links.append(settings.SITE_URL + campaign.survey.get_absolute_url())
    return links


def measured_link(code: str, n: int) -> str:
    return settings.SITE_URL + reverse("marketing:link", args=[code, n])


def opening_image(code: str) -> str:
    return settings.SITE_URL + reverse("marketing:opened", args=[code])


def _swap_links(text: str, swap) -> str:
    """`text` with each web address replaced by `swap(url)` (or left as it is
    when that gives None); trailing punctuation stays outside the address."""

    def one(match: re.Match) -> str:
        whole = match.group(0)
        url = whole.rstrip(_TRAILING)
        new = swap(url)
        return whole if new is None else new + whole[len(url) :]

    return _URL.sub(one, text)


def html_body(text: str, link_for) -> str:
    """The message as simple HTML: paragraphs and line breaks, everything
    escaped, and each web address a link to `link_for(url)`."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        parts, last = [], 0
        for match in _URL.finditer(paragraph):
            url = match.group(0).rstrip(_TRAILING)
            parts.append(escape(paragraph[last : match.start()]))
            parts.append(f'<a href="{escape(link_for(url))}">{escape(url)}</a>')
            last = match.start() + len(url)
        parts.append(escape(paragraph[last:]))
        out.append("<p>" + "".join(parts).replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def record_opened(code: str) -> bool:
    """The opening image was fetched: record the first open, if the person
    still allows measuring. True when something was recorded."""
    return _record_engagement(code, clicked=False)


def record_click(code: str, n: int) -> str | None:
    """A measured link was followed: where to send the reader (None when the
    code or number is unknown). The click is recorded only if the person
    still allows measuring; the reader is sent on either way."""
    delivery = (
        Delivery.objects.filter(track_code=code)
        .select_related("campaign")
        .only("pk", "person_id", "campaign__links")
        .first()
    )
    if delivery is None or not 0 <= n < len(delivery.campaign.links):
        return None
    _record_engagement(code, clicked=True)
    return delivery.campaign.links[n]


def _record_engagement(code: str, *, clicked: bool) -> bool:
    delivery = Delivery.objects.filter(track_code=code).select_related("person").first()
    if (
        delivery is None
        or delivery.person is None
        or not selectors.may_measure(delivery.person)
    ):
        return False
    now = timezone.now()
    mine = Delivery.objects.filter(pk=delivery.pk)
    # Conditional updates: a double fetch or two clicks at once record the
    # first time once; a click also counts as an open (images are often off).
    mine.filter(opened_at__isnull=True).update(opened_at=now)
    mine.filter(engaged_at__isnull=True).update(engaged_at=now)
    if clicked:
        mine.filter(clicked_at__isnull=True).update(clicked_at=now)
        mine.update(clicks=F("clicks") + 1)
    return True


def forget_measuring(person: User, *_args, **_kwargs) -> int:
    """After an objection to analytics or profiling, or a restriction: the
    person's opens, clicks and codes are removed, so nothing about them is
    counted or can be recorded again (unsubscribes stay: they are choices)."""
    return Delivery.objects.filter(person=person).update(
        track_code=None, opened_at=None, clicked_at=None, clicks=0, engaged_at=None
    )


# --- starting and stopping ------------------------------------------------------


def _validate_for_sending(campaign: Campaign) -> None:
    if campaign.channel not in PURPOSE_CHANNELS.get(campaign.purpose, ()):
        raise MarketingError(_("That purpose cannot use that channel."))
    if not campaign.is_sent_by_us:
        raise MarketingError(
            _(
                "Telephone and postal campaigns are not sent: download the list "
                "of people who may be contacted instead."
            )
        )
    if campaign.channel == Channel.EMAIL and not campaign.subject.strip():
        raise MarketingError(_("An email campaign needs a subject."))
    if unknown := check_placeholders(campaign.body + campaign.subject):
        raise MarketingError(
            _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}
        )
    if campaign.purpose == Purpose.SURVEYS:
        if campaign.survey is None:
            raise MarketingError(_("A survey campaign needs a survey to send."))
        if campaign.survey.status != campaign.survey.Status.OPEN:
            raise MarketingError(
                _("Open “%(survey)s” to answers before sending it.")
                % {"survey": campaign.survey}
            )
    elif campaign.survey_id:
        raise MarketingError(_("Only a survey campaign can send a survey."))


def send_campaign(campaign: Campaign, *, by: User | None = None) -> Campaign:
    """Send now, or schedule for `send_at`. Batches are queued after commit;
    each recipient is checked with `can_contact` when their message is sent."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise MarketingError(
                _("“%(name)s” has already been sent or stopped.") % {"name": campaign}
            )
        _validate_for_sending(campaign)
        if campaign.send_at and campaign.send_at > timezone.now():
            campaign.status = Campaign.Status.SCHEDULED
            campaign.save(update_fields=["status"])
            return campaign
        return _start(campaign)


def _start(campaign: Campaign) -> Campaign:
    from . import tasks

    campaign.status = Campaign.Status.SENDING
    campaign.started_at = timezone.now()
    campaign.links = campaign_links(campaign)
    campaign.save(update_fields=["status", "started_at", "links"])
    campaign_id = campaign.pk
    # robust: with the broker down the campaign stays "sending" with nothing
    # queued, and `start_due_campaigns` queues it again later.
    transaction.on_commit(lambda: tasks.queue_campaign.delay(campaign_id), robust=True)
    return campaign


def start_due_campaigns(*, stale_after_seconds: int = 300) -> int:
    """Start scheduled campaigns whose time has come, and queue again any that
    started but never got queued (the broker was down)."""
    now = timezone.now()
    started = 0
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, send_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=Campaign.Status.SCHEDULED)
                .first()
            )
            if campaign is not None:
                _start(campaign)
                started += 1
    stale = Campaign.objects.filter(
        status=Campaign.Status.SENDING,
        recipients_queued__isnull=True,
        started_at__lt=now - timezone.timedelta(seconds=stale_after_seconds),
    )
    for campaign in stale:
        from . import tasks

        tasks.queue_campaign.delay(campaign.pk)
    return started


def stop_campaign(campaign: Campaign, *, by: User | None = None) -> Campaign:
    """Stop a scheduled or sending campaign; messages already sent stay sent,
    and those due to be tried again are cancelled."""
    with transaction.atomic():
        updated = Campaign.objects.filter(
            pk=campaign.pk,
            status__in=[Campaign.Status.SCHEDULED, Campaign.Status.SENDING],
        ).update(status=Campaign.Status.STOPPED, finished_at=timezone.now())
        if not updated:
            raise MarketingError(
                _("“%(name)s” is not scheduled or sending.") % {"name": campaign}
            )
        Delivery.objects.filter(
            campaign_id=campaign.pk, status=Delivery.Status.RETRYING
        ).update(status=Delivery.Status.CANCELLED, retry_at=None)
    campaign.refresh_from_db()
    return campaign


# --- queueing and sending ---------------------------------------------------------


def queue_campaign(campaign_id: int, *, batch_size: int) -> int:
    """Stream the audience's ids and queue one task per batch. Safe to run
    twice: the delivery key makes the second set of batches send nothing."""
    from . import tasks

    campaign = Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SENDING
    ).first()
    if campaign is None:
        return 0
    total = 0
    batch: list[int] = []
    for person_id in selectors.campaign_audience_ids(campaign).iterator(
        chunk_size=batch_size
    ):
        batch.append(person_id)
        if len(batch) >= batch_size:
            tasks.send_campaign_batch.delay(campaign_id, batch)
            total += len(batch)
            batch = []
    if batch:
        tasks.send_campaign_batch.delay(campaign_id, batch)
        total += len(batch)
    Campaign.objects.filter(pk=campaign_id).update(recipients_queued=total)
    finish_if_done(campaign_id)
    return total


def finish_if_done(campaign_id: int) -> bool:
    campaign = Campaign.objects.filter(
        pk=campaign_id,
        status=Campaign.Status.SENDING,
        recipients_queued__isnull=False,
    ).first()
    if campaign is None:
        return False
    done = Delivery.objects.filter(campaign_id=campaign_id).exclude(
        status__in=[Delivery.Status.SENDING, Delivery.Status.RETRYING]
    )
    if done.count() < campaign.recipients_queued:
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )
    )


def repair_stale_deliveries(*, older_than_seconds: int) -> int:
    """Mark deliveries left "sending" for longer than `older_than_seconds` as
    "interrupted", then finish their campaigns if nothing else is outstanding.

    A row is "sending" only while its one message is being sent, so one that
    old belongs to a worker that died. Whether its message left cannot be
    proved (SMTP gives no receipt we kept), so it is never sent again: a
    marketing message is sent at most once. A worker that was merely slow and
    finishes later still records "sent" over "interrupted". Idempotent."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    # A retry claims an old row: its `retry_at` says when it was claimed.
    stale = Delivery.objects.filter(status=Delivery.Status.SENDING).filter(
        Q(retry_at__isnull=True, created_at__lt=cutoff) | Q(retry_at__lt=cutoff)
    )
    campaign_ids = set(stale.values_list("campaign_id", flat=True).distinct())
    repaired = stale.filter(campaign_id__in=campaign_ids).update(
        status=Delivery.Status.INTERRUPTED,
        error=_("The worker stopped while sending; not resent."),
    )
    if repaired:
        log.warning("Marked %s interrupted campaign deliveries", repaired)
    for campaign_id in campaign_ids:
        finish_if_done(campaign_id)
    return repaired


def _claim(campaign_id: int, person_id: int) -> int | None:
    """Insert the delivery row, or None if it exists. One statement, no
    exception and no savepoint, so it is cheap and safe inside or outside a
    transaction."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, person_id, status, error, attempts, created_at) "  # noqa: S608 (table name from the model)
            "VALUES (%s, %s, %s, '', 0, %s) "
            "ON CONFLICT (campaign_id, person_id) DO NOTHING RETURNING id",
            [campaign_id, person_id, Delivery.Status.SENDING, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


class _Sender:
    """Sends one campaign's messages over one connection, at a bounded rate."""

    def __init__(self, campaign: Campaign, *, rate_per_second: float | None):
        self.campaign = campaign
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self.next_at = time.monotonic()
        self.wants_recommendation = "{recommended_course}" in campaign.body
        if campaign.channel == Channel.EMAIL:
            self.template = get_template("marketing/email/campaign.txt")
            self.html_template = get_template("marketing/email/campaign.html")
            # One connection for the whole batch, not one per message; opened
            # by the first message, so a server that is down fails (and
            # retries) each delivery instead of losing the batch.
            self.mail = get_connection()
            self.opened = False
            self.sms = None
        else:
            self.template = get_template("marketing/sms/campaign.txt")
            self.mail = None
            self.sms = sms.get_backend()

    def pace(self) -> None:
        if self.interval:
            now = time.monotonic()
            if self.next_at > now:
                time.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval

    def send(self, person: User, *, code: str | None = None) -> None:
        """Send the message to `person`. With a measuring `code` (email only),
        links pass through our own site and the HTML part holds the opening
        image; without one, links go straight to where they point."""
        campaign = self.campaign
        body = personalise(
            campaign.body,
            first_name=person.first_name,
            recommended=recommendation_line(person)
            if self.wants_recommendation
            else "",
        )
        url = unsubscribe_url(
            person,
            purpose=campaign.purpose,
            channel=campaign.channel,
            campaign_id=campaign.pk,
        )
        links = campaign.links or campaign_links(campaign)

        def link_for(target: str) -> str:
            if code is None or target not in links:
                return target
            return measured_link(code, links.index(target))

        survey_url = ""
        if campaign.survey_id:
            survey_url = link_for(
                settings.SITE_URL + campaign.survey.get_absolute_url()
            )
        context = {
            "campaign": campaign,
            "unsubscribe_url": url,
            "preferences_url": settings.SITE_URL + reverse("consent:preferences"),
            "site_name": settings.SITE_NAME,
            "survey_url": survey_url,
        }
        text = self.template.render(
            {**context, "body": _swap_links(body, link_for) if code else body}
        )
        self.pace()
        if self.mail is not None:
            subject = personalise(
                campaign.subject, first_name=person.first_name, recommended=""
            )
            if not self.opened:
                self.mail.open()
                self.opened = True
            message = EmailMultiAlternatives(
                subject=subject,
                body=text,
                to=[person.email],
                connection=self.mail,
                headers={
                    # RFC 8058 one-click unsubscribe: mail clients POST to the URL.
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    "X-CPD-Campaign": str(campaign.pk),
                },
            )
            html = self.html_template.render(
                {
                    **context,
                    "body_html": html_body(body, link_for),
                    "opening_image": opening_image(code) if code else "",
                    "subject": subject,
                }
            )
            message.attach_alternative(html, "text/html")
            message.send()
        else:
            phone = getattr(getattr(person, "profile", None), "phone", "")
            if not phone:
                raise MarketingError(_("No phone number on the profile."))
            self.sms.send(sms.SmsMessage(to=phone, body=text.strip()))

    def reset(self) -> None:
        """After a failure: the next message opens a new connection (a server
        that dropped this one would fail every later message on it)."""
        if self.mail is not None:
            self.close()

    def close(self) -> None:
        if self.mail is not None:
            self.opened = False
            try:
                self.mail.close()
            except Exception:
                log.warning("Closing the mail connection failed", exc_info=True)


def _skip_status(person: User) -> str:
    if (
        person.processing_restricted
        or person.objects_to_direct_marketing
        or not person.is_active
        or person.erased_at is not None
    ):
        return Delivery.Status.SKIPPED_RESTRICTED
    return Delivery.Status.SKIPPED_NO_CONSENT


def send_batch(
    campaign_id: int, person_ids: Iterable[int], *, rate_per_second: float | None
) -> Counter:
    """Deliver to each person in the batch, checking `can_contact` right before
    each message. Safe to run twice: people already claimed are left alone."""
    outcome: Counter = Counter()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return outcome
    people = User.objects.all()
    if campaign.channel == Channel.SMS:
        people = people.select_related("profile")
    sender = _Sender(campaign, rate_per_second=rate_per_second)
    try:
        for n, person_id in enumerate(person_ids, start=1):
            if (
                n % STOP_CHECK_EVERY == 0
                and not Campaign.objects.filter(
                    pk=campaign_id, status=Campaign.Status.SENDING
                ).exists()
            ):
                outcome["stopped"] += 1
                break
            person = people.filter(pk=person_id).first()
            if person is None:
                outcome["gone"] += 1
                continue
            delivery_id = _claim(campaign_id, person_id)
            if delivery_id is None:
                outcome["already"] += 1
                continue
            outcome[_deliver(sender, delivery_id, person)] += 1
    finally:
        sender.close()
    finish_if_done(campaign_id)
    return outcome


def _deliver(sender: _Sender, delivery_id: int, person: User) -> str:
    campaign = sender.campaign
    if not can_contact(person, campaign.channel, campaign.purpose):
        status = _skip_status(person)
        Delivery.objects.filter(pk=delivery_id).update(status=status)
        return status
    try:
        sender.send(person, code=_measuring_code(campaign, delivery_id, person))
    except MarketingError as exc:
        # Nothing to retry (no phone number): not sent, shown to staff.
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:500],
            retry_at=None,
        )
        return Delivery.Status.FAILED
    except Exception as exc:
        log.warning("Campaign %s to %s failed: %s", campaign.pk, person.pk, exc)
        sender.reset()
        return _record_failure(delivery_id, exc)
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), retry_at=None
    )
    return Delivery.Status.SENT


def _measuring_code(campaign: Campaign, delivery_id: int, person: User) -> str | None:
    """A random code for this delivery when the person allows measuring now
    (an earlier attempt's code is kept), else None. One query to ask, one to
    set the code."""
    if campaign.channel != Channel.EMAIL or not selectors.may_measure(person):
        return None
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET track_code = COALESCE(track_code, %s) "  # noqa: S608 (table name from the model)
            "WHERE id = %s RETURNING track_code",
            [secrets.token_urlsafe(16), delivery_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _record_failure(delivery_id: int, exc: Exception) -> str:
    """Count the failed attempt; "retrying" with the outbox back-off until the
    horizon, then "failed" (kept, logged as an error, shown to staff)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.error = f"{exc.__class__.__name__}: {exc}"[:500]
        if delivery.retry_until is None:
            delivery.retry_until = delivery.created_at + outbox.retry_horizon()
        delivery.retry_at = outbox.next_retry_at(
            delivery.attempts, delivery.retry_until
        )
        if delivery.retry_at is None:
            delivery.status = Delivery.Status.FAILED
            log.error(
                "Campaign delivery %s not sent: still failing after %s attempts "
                "since %s: %s",
                delivery.pk,
                delivery.attempts,
                delivery.created_at.isoformat(),
                delivery.error,
            )
        else:
            delivery.status = Delivery.Status.RETRYING
        delivery.save(
            update_fields=["attempts", "error", "retry_until", "retry_at", "status"]
        )
    return delivery.status


def retry_deliveries(*, rate_per_second: float | None) -> Counter:
    """Try again the deliveries whose back-off has passed, checking consent
    again for each. Each row is claimed ("retrying" to "sending") by one
    conditional update before its message is sent, so two sweeps or workers
    never both send it. Deliveries of a stopped campaign are cancelled."""
    outcome: Counter = Counter()
    due: dict[int, list[int]] = defaultdict(list)
    for pk, campaign_id in (
        Delivery.objects.filter(
            status=Delivery.Status.RETRYING, retry_at__lte=timezone.now()
        )
        .order_by("retry_at", "pk")
        .values_list("pk", "campaign_id")[:500]
    ):
        due[campaign_id].append(pk)
    for campaign_id, ids in due.items():
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None or campaign.status not in (
            Campaign.Status.SENDING,
            Campaign.Status.SENT,
        ):
            outcome["cancelled"] += Delivery.objects.filter(
                pk__in=ids, status=Delivery.Status.RETRYING
            ).update(status=Delivery.Status.CANCELLED, retry_at=None)
            continue
        people = User.objects.all()
        if campaign.channel == Channel.SMS:
            people = people.select_related("profile")
        sender = _Sender(campaign, rate_per_second=rate_per_second)
        try:
            for pk in ids:
                claimed = Delivery.objects.filter(
                    pk=pk, status=Delivery.Status.RETRYING, retry_at__lte=timezone.now()
                ).update(status=Delivery.Status.SENDING, retry_at=timezone.now())
                if not claimed:
                    outcome["already"] += 1
                    continue
                person_id = (
                    Delivery.objects.filter(pk=pk)
                    .values_list("person_id", flat=True)
                    .first()
                )
                person = people.filter(pk=person_id).first() if person_id else None
                if person is None:
                    Delivery.objects.filter(pk=pk).update(
                        status=Delivery.Status.SKIPPED_RESTRICTED,
                        error=_("Not sent: the person's account is gone."),
                        retry_at=None,
                    )
                    outcome[Delivery.Status.SKIPPED_RESTRICTED] += 1
                    continue
                outcome[_deliver(sender, pk, person)] += 1
        finally:
            sender.close()
        finish_if_done(campaign_id)
    return outcome


def send_deliveries_again(delivery_ids: list[int], *, by: User) -> tuple[int, int]:
    """Staff's "send again" for deliveries shown as failed: each goes back to
    "retrying" with a new horizon from now and is tried by `retry_deliveries`
    (queued after commit, and every minute), which asks `can_contact` first.
    (queued, refused because the person was erased). Idempotent: a row that is
    not "failed" any more is left alone, so a double submit queues it once.
    Deliveries of a stopped campaign are not sent again."""
    from . import tasks

    queued = refused = 0
    for pk in delivery_ids:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(of=("self",))
                .select_related("person", "campaign")
                .filter(pk=pk, status=Delivery.Status.FAILED)
                .exclude(campaign__status=Campaign.Status.STOPPED)
                .first()
            )
            if delivery is None:
                continue
            person = delivery.person
            if (
                person is None
                or person.erased_at is not None
                or outbox.refuses(person.email)
            ):
                delivery.status = Delivery.Status.SKIPPED_RESTRICTED
                delivery.error = _("Not sent: the person's data was erased.")
                delivery.retry_at = None
                delivery.save(update_fields=["status", "error", "retry_at"])
                refused += 1
                continue
            now = timezone.now()
            delivery.status = Delivery.Status.RETRYING
            delivery.attempts = 0
            delivery.retry_at = now
            delivery.retry_until = now + outbox.retry_horizon()
            delivery.save(
                update_fields=["status", "attempts", "retry_at", "retry_until"]
            )
            queued += 1
    if queued:
        log.info("%s sent again %s campaign deliveries", by.pk, queued)
        # robust: with the broker down the sweep sends them within a minute.
        transaction.on_commit(tasks.retry_deliveries.delay, robust=True)
    return queued, refused


# --- call and mailing lists ----------------------------------------------------------


def export_contact_list(campaign: Campaign, *, by: User) -> bytes:
    """A CSV of the people who may be contacted on the campaign's channel
    (telephone or post) today, with only what staff need to contact them. The
    export is logged once, with the count and no personal data."""
    if campaign.channel not in (Channel.PHONE, Channel.POST):
        raise MarketingError(
            _("Only telephone and postal campaigns produce a list to download.")
        )
    if campaign.channel not in PURPOSE_CHANNELS.get(campaign.purpose, ()):
        raise MarketingError(_("That purpose cannot use that channel."))
    if campaign.status == Campaign.Status.STOPPED:
        raise MarketingError(_("This campaign was stopped."))
    out = io.StringIO()
    writer = csv.writer(out)
    if campaign.channel == Channel.PHONE:
        writer.writerow(["First name", "Last name", "Phone"])
    else:
        writer.writerow(
            [
                "First name",
                "Last name",
                "Address line 1",
                "Address line 2",
                "Town",
                "Postcode",
            ]
        )
    count = 0
    for row in selectors.contact_list_rows(campaign):
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    Campaign.objects.filter(pk=campaign.pk).update(
        list_exported_at=timezone.now(), list_exported_count=count
    )
    audit(
        "marketing list exported",
        person=None,
        by=by,
        detail=f"campaign:{campaign.pk} {campaign.channel} list, {count} people, "
        f"purpose {campaign.purpose}",
    )
    return out.getvalue().encode("utf-8-sig")
