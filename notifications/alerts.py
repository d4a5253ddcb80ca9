"""Who gets told about what, and flood control. The only module that calls Postmark.

Alerts are rows written in the ingest transaction (see Alert); the background worker
(maintenance/jobs.py) claims due rows one at a time and sends them, outside any transaction.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from postmarker.core import PostmarkClient
from postmarker.exceptions import ClientError

from errors.models import Alert, AlertBudget, Error
from projects.models import Project

logger = logging.getLogger("errors.alerts")

MAX_ATTEMPTS = 4
CLAIM_TIMEOUT = timedelta(minutes=5)
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
    """Write an alert (Alert.NEW, REGRESSION or UNMUTED) for a group, if alerts are on for its
    project and environment (`project` is projects.auth.ProjectSettings)."""
    if not alerts_enabled() or not project.alert_recipients:
        return
    if project.alert_environments and environment not in project.alert_environments:
        return
    Alert.objects.create(error_id=error_id, kind=kind)


# --- sending (background worker, no transaction open) --------------------------------------


def send_due_alerts(now=None):
    """Send every alert that is due; returns how many were handled.

    One alert's failure, whatever it is, is that alert's: it is retried or given up on, and
    the rest of the batch goes on.
    """
    now = now or timezone.now()
    due = (
        Alert.objects.filter(Q(status=Alert.PENDING) | Q(status=Alert.SENDING), next_attempt_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)[:50]
    )
    handled = 0
    for alert_id in list(due):
        if not _claim(alert_id, now):
            continue
        handled += 1
        alert = Alert.objects.select_related("error").filter(pk=alert_id).first()
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


def _take_send_slot(now):
    """One of this clock hour's ALERT_MAX_PER_HOUR emails, or False when they are all used.

    The conditional UPDATE is the check and the count in one statement, so workers in several
    processes and instances cannot together send more than the cap.
    """
    window = now.replace(minute=0, second=0, microsecond=0)
    AlertBudget.objects.filter(window__lt=window).delete()
    AlertBudget.objects.get_or_create(destination="email", window=window)
    taken = AlertBudget.objects.filter(
        destination="email", window=window, used__lt=settings.ALERT_MAX_PER_HOUR
    ).update(used=F("used") + 1)
    return taken == 1


def _deliver(alert, now):
    if alert.attempts > MAX_ATTEMPTS:
        # Claimed again after workers died mid-send this many times: stop trying.
        _give_up(alert, "claimed too many times without a result")
        return
    if not _take_send_slot(now):
        Alert.objects.filter(pk=alert.pk).update(status=Alert.SUPPRESSED)
        logger.info("alert %s suppressed: %d emails already sent this hour", alert.pk, settings.ALERT_MAX_PER_HOUR)
        return
    # Claimed with one conditional UPDATE, so of two workers sending at once only one reports them.
    suppressed = Alert.objects.filter(status=Alert.SUPPRESSED, suppression_reported=False).update(
        suppression_reported=True
    )
    _postmark().emails.send(
        From=settings.POSTMARK_FROM_EMAIL,
        To=_recipients(alert.error.project),
        Subject=alert_subject(alert),
        TextBody=alert_body(alert, suppressed),
        Tag=f"error-{alert.kind}",
    )
    Alert.objects.filter(pk=alert.pk).update(status=Alert.SENT, sent_at=timezone.now(), last_error="")
    logger.info("alert %s sent: %s for error %s", alert.pk, alert.kind, alert.error_id)


def _recipients(project_name):
    project = Project.objects.filter(name=project_name).first()
    return project.alert_recipients if project is not None else settings.ALERT_EMAILS


def _failed(alert, exc, now):
    """Retry later with backoff, or give up: on a 4xx from Postmark, or after MAX_ATTEMPTS."""
    status_code = getattr(getattr(exc.__cause__ or exc, "response", None), "status_code", None)
    permanent = isinstance(exc, ClientError) or (status_code is not None and 400 <= status_code < 500)
    if permanent or alert.attempts >= MAX_ATTEMPTS:
        _give_up(alert, exc)
        return
    delay = timedelta(seconds=settings.ALERT_RETRY_DELAY * 3 ** (alert.attempts - 1))
    Alert.objects.filter(pk=alert.pk).update(
        status=Alert.PENDING, next_attempt_at=now + delay, last_error=_describe(exc)
    )
    logger.warning("alert %s attempt %d failed, retrying in %ss: %s", alert.pk, alert.attempts, delay.seconds, _describe(exc))


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


def alert_subject(alert):
    error = alert.error
    headline = (error.message.strip().splitlines() or [""])[0]
    text = f"{error.exception_type}: {headline}" if headline else error.exception_type
    prefix = f"[{error.project}/{error.environment}] "
    if alert.kind == Alert.REGRESSION:
        prefix += "Regression: "
    subject = prefix + text
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
            "regression": alert.kind == Alert.REGRESSION,
            "traceback_tail": "\n".join(error.traceback.rstrip().splitlines()[-TRACEBACK_TAIL_LINES:]),
            "link": f"{settings.PUBLIC_URL}/admin/errors/error/{error.pk}/change/",
            "suppressed_count": suppressed_count,
            "max_per_hour": settings.ALERT_MAX_PER_HOUR,
        },
    )
