"""The one write path for reports: group by fingerprint, count, keep the newest occurrences."""

import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from .alerts import queue_alert
from .fingerprint import compute_fingerprint
from .models import OCCURRENCES_KEPT, Error, Occurrence
from .scrub import Scrubber
from .stacktrace import JAVASCRIPT, Frame, Stack, parse_stack

logger = logging.getLogger("errors.ingest")


@dataclass(frozen=True)
class Report:
    """A validated report, as ReportSerializer produces it."""

    project: str
    exception_type: str
    environment: str = "production"
    message: str = ""
    traceback: str = ""
    request_url: str = ""
    request_method: str = ""
    request_headers: dict | None = None
    user_id: str = ""
    extra: dict | None = None
    source: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What happened to one report."""

    error_id: int
    fingerprint: str
    count: int
    created: bool
    reopened: bool


def guess_source(stack):
    """`browser` for a JavaScript stack whose frames are web URLs, else `backend`."""
    if stack.language == JAVASCRIPT and any(f.file.startswith(("http://", "https://")) for f in stack.frames):
        return "browser"
    return "backend"


@dataclass(frozen=True)
class Grouping:
    """How a report is grouped: its parsed stack, culprit frame and fingerprint."""

    stack: Stack
    culprit: Frame | None
    fingerprint: str
    strategy: str


def group_report(report):
    stack = parse_stack(report.traceback)
    strategy = settings.FINGERPRINT_STRATEGY
    culprit = stack.culprit
    return Grouping(stack, culprit, compute_fingerprint(report.project, report.exception_type, culprit, strategy), strategy)


def record_error(report):
    """Count `report` into its group, creating or reopening the group, in one transaction.

    Secrets in the request context are filtered first: nothing below stores or logs them.
    """
    started = time.perf_counter()
    scrubber = Scrubber(settings.SCRUB_FIELDS)
    grouping = group_report(report)
    culprit = grouping.culprit
    latest = {
        "environment": report.environment,
        "message": report.message,
        "traceback": report.traceback,
        "source": report.source or guess_source(grouping.stack),
        "culprit_file": culprit.file if culprit else "",
        "culprit_line": culprit.line if culprit else None,
        "culprit_function": culprit.function if culprit else "",
    }
    fingerprint = grouping.fingerprint
    with transaction.atomic():
        now = timezone.now()
        recorded = _count_into_group(fingerprint, report.project, report.exception_type, latest, now)
        Occurrence.objects.create(
            error_id=recorded.error_id,
            timestamp=now,
            environment=report.environment,
            message=report.message,
            request_url=scrubber.scrub_url(report.request_url),
            request_method=report.request_method,
            request_headers=_json_or_none(scrubber.scrub_mapping(report.request_headers)),
            user_id=report.user_id,
            extra=_json_or_none(scrubber.scrub_mapping(report.extra)),
        )
        if recorded.count > OCCURRENCES_KEPT:
            _trim_occurrences(recorded.error_id)
        if recorded.created or recorded.reopened:
            queue_alert(recorded, report.environment)
    logger.info(
        "report project=%s status=%s fingerprint=%s count=%d ms=%.1f",
        report.project,
        "created" if recorded.created else "existing",
        recorded.fingerprint,
        recorded.count,
        (time.perf_counter() - started) * 1000,
    )
    return recorded


def _count_into_group(fingerprint, project, exception_type, latest, now):
    # The row lock (PostgreSQL) or the IMMEDIATE write lock (SQLite) is held from here to
    # commit, so the reopen decision and the F() increment see no concurrent change.
    existing = _lock_group(fingerprint)
    if existing is None:
        try:
            with transaction.atomic():
                error = Error.objects.create(
                    fingerprint=fingerprint,
                    project=project,
                    exception_type=exception_type,
                    count=1,
                    first_seen=now,
                    last_seen=now,
                    **latest,
                )
            return Recorded(error.pk, fingerprint, 1, created=True, reopened=False)
        except IntegrityError:
            # Another report of this new fingerprint committed first (PostgreSQL only: SQLite
            # serialises writers); its row is visible now, so count into it.
            existing = _lock_group(fingerprint)
    error_id, was_resolved = existing
    Error.objects.filter(pk=error_id).update(count=F("count") + 1, last_seen=now, resolved=False, **latest)
    count = Error.objects.filter(pk=error_id).values_list("count", flat=True).get()
    return Recorded(error_id, fingerprint, count, created=False, reopened=was_resolved)


def _lock_group(fingerprint):
    return Error.objects.select_for_update().filter(fingerprint=fingerprint).values_list("pk", "resolved").first()


def _trim_occurrences(error_id):
    oldest_kept = (
        Occurrence.objects.filter(error_id=error_id)
        .order_by("-id")
        .values_list("id", flat=True)[OCCURRENCES_KEPT - 1 : OCCURRENCES_KEPT]
    )
    Occurrence.objects.filter(error_id=error_id, id__lt=Subquery(oldest_kept)).delete()


def _json_or_none(value):
    return None if value is None else json.dumps(value)
