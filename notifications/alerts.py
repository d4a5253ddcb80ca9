"""Who gets told about what, and flood control. The only module that calls Postmark; channel
alerts go through notifications.webhooks.

Alerts are rows written in the ingest transaction (see Alert): one for email, one for each
active channel of the project. The background worker (maintenance/jobs.py) claims due rows one
at a time and sends them, outside any transaction.
"""

import logging
import math
from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from postmarker.core import PostmarkClient

from errors.models import Alert, AlertBudget, Error
from errors.stats import hour_start
from projects.models import AlertChannel, Project

from . import webhooks

logger = logging.getLogger("errors.alerts")

MAX_ATTEMPTS = 4
CLAIM_TIMEOUT = timedelta(minutes=5)
# The longest wait a 429's Retry-After may ask for.
RETRY_AFTER_MAX = timedelta(hours=1)
SUBJECT_MAX = 150
TRACEBACK_TAIL_LINES = 15

ALERT_SETTINGS = ("POSTMARK_API_TOKEN", "POSTMARK_FROM_EMAIL")


def missing_alert_settings():
    return [name for name in ALERT_SETTINGS if not getattr(settings, name)]


def alerts_enabled():
    return not missing_alert_settings()


def describe_alert_configuration():
    """The line logged once at start."""
    missing = missing_alert_settings()
    if missing:
        return f"email alerts off: {', '.join(missing)} not set"
    if not settings.ALERT_EMAILS:
        return "email alerts on: to the recipients each project names (ALERT_EMAILS not set)"
    return f"email alerts on: to {len(settings.ALERT_EMAILS)} recipient(s), or those a project names"


# --- queueing (inside the ingest transaction) ----------------------------------------------


def queue_alert(error_id, kind, environment, project):
    """Write the alerts (Alert.NEW, REGRESSION or UNMUTED) of a group: by email if email alerts
    are on and the project has recipients, and to each active channel of the project; none if
    its environment does not alert (`project` is projects.auth.ProjectSettings)."""
    if project.alert_environments and environment not in project.alert_environments:
        return
    channel_ids = AlertChannel.objects.filter(project_id=project.id, is_active=True).values_list("pk", flat=True)
    alerts = [Alert(error_id=error_id, kind=kind, channel_id=channel_id) for channel_id in channel_ids]
    if alerts_enabled() and project.alert_recipients:
        alerts.insert(0, Alert(error_id=error_id, kind=kind))
    Alert.objects.bulk_create(alerts)


# --- sending (background worker, no transaction open) --------------------------------------


def send_due_alerts(now=None):
    """Send every alert that is due; returns how many were handled.

    One alert's failure, whatever it is, is that alert's: it is retried or given up on, and
    the rest of the batch goes on. Email alerts wait while email is not configured.
    """
    now = now or timezone.now()
    due = Alert.objects.filter(Q(status=Alert.PENDING) | Q(status=Alert.SENDING), next_attempt_at__lte=now)
    if not alerts_enabled():
        due = due.filter(channel__isnull=False)
    handled = 0
    for alert_id in list(due.order_by("id").values_list("pk", flat=True)[:50]):
        if not _claim(alert_id, now):
            continue
        handled += 1
        alert = Alert.objects.select_related("error", "channel").filter(pk=alert_id).first()
        if alert is None:  # its group was deleted meanwhile
            continue
        try:
            _deliver(alert, now)
        except Exception as exc:
            logger.exception("alert %s could not be sent", alert.pk)
            _failed(alert, exc, now)
    return handled


def _claim(alert_id, now):
    # Only one worker, in any process or instance, wins this UPDATE for a given due row. A
    # worker that dies mid-send leaves the row `sending`; it becomes due again after the timeout.
    return (
        Alert.objects.filter(
            Q(status=Alert.PENDING) | Q(status=Alert.SENDING), pk=alert_id, next_attempt_at__lte=now
        ).update(status=Alert.SENDING, next_attempt_at=now + CLAIM_TIMEOUT, attempts=F("attempts") + 1)
        == 1
    )


def _destination(alert):
    """Whose hourly budget an alert takes: email's, or its channel's own."""
    return "email" if alert.channel_id is None else f"channel:{alert.channel_id}"


def _take_send_slot(destination, now):
    """One of this clock hour's ALERT_MAX_PER_HOUR alerts to `destination`, or False when they
    are all used.

    The conditional UPDATE is the check and the count in one statement, so workers in several
    processes and instances cannot together send more than the cap.
    """
    window = hour_start(now)
    AlertBudget.objects.filter(window__lt=window).delete()
    AlertBudget.objects.get_or_create(destination=destination, window=window)
    taken = AlertBudget.objects.filter(
        destination=destination, window=window, used__lt=settings.ALERT_MAX_PER_HOUR
    ).update(used=F("used") + 1)
    return taken == 1


def _give_back_send_slot(destination, now):
    """A send that failed used no message: its slot is free for the retry or the next alert."""
    AlertBudget.objects.filter(destination=destination, window=hour_start(now), used__gt=0).update(used=F("used") - 1)


def _claim_suppressed(alert):
    """The ids of the alerts to `alert`'s destination held back and not yet reported: locked and
    marked reported at once, so of two workers sending at once only one reports them."""
    with transaction.atomic():
        held = Alert.objects.filter(channel_id=alert.channel_id, status=Alert.SUPPRESSED, suppression_reported=False)
        ids = list(held.select_for_update().values_list("pk", flat=True))
        Alert.objects.filter(pk__in=ids).update(suppression_reported=True)
    return ids


def _deliver(alert, now):
    if alert.attempts > MAX_ATTEMPTS:
        # Claimed again after workers died mid-send this many times: stop trying.
        _give_up(alert, "claimed too many times without a result")
        return
    if alert.channel is not None and not alert.channel.is_active:
        _give_up(alert, "the channel was deactivated")
        return
    destination = _destination(alert)
    if not _take_send_slot(destination, now):
        Alert.objects.filter(pk=alert.pk).update(status=Alert.SUPPRESSED)
        logger.info(
            "alert %s suppressed: %d alerts already sent to %s this hour", alert.pk, settings.ALERT_MAX_PER_HOUR, destination
        )
        return
    suppressed = _claim_suppressed(alert)
    try:
        _send(alert, len(suppressed), now)
    except BaseException:
        # Neither the slot nor the held-back count was used: the next message says it.
        _give_back_send_slot(destination, now)
        Alert.objects.filter(pk__in=suppressed).update(suppression_reported=False)
        raise
    Alert.objects.filter(pk=alert.pk).update(status=Alert.SENT, sent_at=timezone.now(), last_error="")
    logger.info("alert %s sent to %s: %s for error %s", alert.pk, destination, alert.kind, alert.error_id)


def _send(alert, suppressed, now):
    if alert.channel is None:
        _postmark().emails.send(
            From=settings.POSTMARK_FROM_EMAIL,
            To=_recipients(alert.error.project),
            Subject=alert_subject(alert),
            TextBody=alert_body(alert, suppressed),
            Tag=f"error-{alert.kind}",
        )
    else:
        body = webhooks.channel_body(alert.channel.kind, alert.kind, alert.error, error_link(alert.error), suppressed, now)
        webhooks.post_json(alert.channel.url, body)


def _recipients(project_name):
    project = Project.objects.filter(name=project_name).first()
    return project.alert_recipients if project is not None else settings.ALERT_EMAILS


def _failed(alert, exc, now):
    """Retry later with backoff (after a 429, when its Retry-After says), or give up: on a
    refused address, on any other 3xx or 4xx answer, or after MAX_ATTEMPTS."""
    response = _response_of(exc)
    status_code = response.status_code if response is not None else None
    refused = status_code is not None and 300 <= status_code < 500 and status_code != 429
    if refused or isinstance(exc, webhooks.AddressRefused) or alert.attempts >= MAX_ATTEMPTS:
        _give_up(alert, exc)
        return
    delay = _retry_after(response, now) if status_code == 429 else None
    if delay is None:
        delay = timedelta(seconds=settings.ALERT_RETRY_DELAY * 3 ** (alert.attempts - 1))
    Alert.objects.filter(pk=alert.pk).update(
        status=Alert.PENDING, next_attempt_at=now + delay, last_error=_describe(exc)
    )
    logger.warning(
        "alert %s attempt %d failed, retrying in %ss: %s", alert.pk, alert.attempts, delay.total_seconds(), _describe(exc)
    )


def _response_of(exc):
    """The HTTP answer a failure carries: a webhook's, or Postmark's (postmarker chains it)."""
    for candidate in (exc, exc.__cause__):
        response = getattr(candidate, "response", None)
        if response is not None:
            return response
    return None


def _retry_after(response, now):
    """A 429's Retry-After (seconds or an HTTP date) as a delay up to RETRY_AFTER_MAX, or None."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    if not math.isfinite(seconds):
        return None
    return timedelta(seconds=min(max(seconds, 0), RETRY_AFTER_MAX.total_seconds()))


def _give_up(alert, reason):
    Alert.objects.filter(pk=alert.pk).update(status=Alert.FAILED, last_error=_describe(reason))
    logger.error("alert %s failed after %d attempt(s), giving up: %s", alert.pk, alert.attempts, _describe(reason))


def _describe(reason):
    if isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}"
    return str(reason)[:500]


def _postmark():
    return PostmarkClient(
        server_token=settings.POSTMARK_API_TOKEN, root_api_url=settings.POSTMARK_API_URL, timeout=10
    )


# --- content -------------------------------------------------------------------------------


def error_link(error):
    """The group's page in the admin."""
    return f"{settings.PUBLIC_URL}/admin/errors/error/{error.pk}/change/"


def alert_subject(alert):
    error = alert.error
    prefix = f"[{error.project}/{error.environment}] "
    if alert.kind == Alert.REGRESSION:
        prefix += "Regression: "
    elif alert.kind == Alert.UNMUTED:
        prefix += "Unmuted: "
    subject = prefix + webhooks.headline(error)
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def alert_body(alert, suppressed_count=0):
    error: Error = alert.error
    return render_to_string(
        "alerts/email.txt",
        {
            "alert": alert,
            "error": error,
            "traceback_tail": "\n".join(error.traceback.rstrip().splitlines()[-TRACEBACK_TAIL_LINES:]),
            "link": error_link(error),
            "suppressed_count": suppressed_count,
            "max_per_hour": settings.ALERT_MAX_PER_HOUR,
        },
    )
