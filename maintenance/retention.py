"""Deleting resolved errors past retention, in batches, and event counts past their window; the
command and the daily job call these."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from django.conf import settings

from errors.models import DAILY_BUCKETS_KEPT, HOURLY_BUCKETS_KEPT, Error, EventBucket, Occurrence
from projects.models import Project

logger = logging.getLogger("errors.retention")

BATCH_SIZE = 500


@dataclass(frozen=True)
class Purged:
    groups: int
    occurrences: int


def purge_projects(*, dry_run=False, now=None):
    """purge_resolved for every project with its own retention days, then for all other groups
    with RETENTION_DAYS; the daily job and the command without --days run this."""
    own = dict(Project.objects.filter(retention_days__isnull=False).values_list("name", "retention_days"))
    totals = [purge_resolved(days, projects=[name], dry_run=dry_run, now=now) for name, days in own.items()]
    totals.append(purge_resolved(settings.RETENTION_DAYS, excluding=list(own), dry_run=dry_run, now=now))
    return Purged(sum(t.groups for t in totals), sum(t.occurrences for t in totals))


def purge_resolved(days, *, projects=None, excluding=(), dry_run=False, batch_size=BATCH_SIZE, now=None):
    """Delete resolved groups whose last report is older than `days`, with their occurrences
    (of `projects` only, or of all but `excluding`).

    Each batch is its own short transaction, so SQLite writers (ingestion) wait at most one
    batch. The delete re-checks `resolved` and `last_seen` under the write lock, so a group
    reopened by a report meanwhile is kept. Unresolved groups are never touched.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Error.objects.filter(resolved=True, last_seen__lt=cutoff).exclude(project__in=excluding)
    if projects is not None:
        expired = expired.filter(project__in=projects)
    if dry_run:
        return Purged(expired.count(), Occurrence.objects.filter(error__in=expired).count())
    groups = occurrences = 0
    while True:
        with transaction.atomic():
            batch = list(expired.select_for_update().order_by("id").values_list("pk", flat=True)[:batch_size])
            if not batch:
                break
            _total, per_model = Error.objects.filter(pk__in=batch, resolved=True, last_seen__lt=cutoff).delete()
        groups += per_model.get(Error._meta.label, 0)
        occurrences += per_model.get(Occurrence._meta.label, 0)
    if groups:
        logger.info("retention: purged %d resolved group(s), %d occurrence(s) older than %d days", groups, occurrences, days)
    return Purged(groups, occurrences)


BUCKET_BATCH_SIZE = 5000


def purge_old_buckets(now=None, batch_size=BUCKET_BATCH_SIZE):
    """Drop hourly counts older than HOURLY_BUCKETS_KEPT and daily ones older than
    DAILY_BUCKETS_KEPT, in batches of short transactions, so SQLite writers wait one batch."""
    now = now or timezone.now()
    purged = 0
    for span, kept in ((EventBucket.HOUR, HOURLY_BUCKETS_KEPT), (EventBucket.DAY, DAILY_BUCKETS_KEPT)):
        old = EventBucket.objects.filter(span=span, start__lt=now - kept)
        while batch := list(old.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                purged += EventBucket.objects.filter(pk__in=batch).delete()[0]
    return purged
