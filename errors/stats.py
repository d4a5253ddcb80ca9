"""Events over time: a group's counts per hour or per day, empty buckets included."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .models import EventBucket


@dataclass(frozen=True)
class Period:
    span: str
    step: timedelta
    buckets: int


# GET /api/errors/{id}/stats?period=…; 90d is ours, beside the two the admin draws.
PERIODS = {
    "24h": Period(EventBucket.HOUR, timedelta(hours=1), 24),
    "14d": Period(EventBucket.DAY, timedelta(days=1), 14),
    "90d": Period(EventBucket.DAY, timedelta(days=1), 90),
}


def hour_start(moment):
    """The clock hour a moment falls in: the hourly buckets' start, and every hourly budget's."""
    return moment.replace(minute=0, second=0, microsecond=0)


def bucket_starts(period, now=None):
    """The starts of the period's buckets, oldest first, the current (unfinished) one last."""
    now = now or timezone.now()
    current = hour_start(now)
    if period.span == EventBucket.DAY:
        current = current.replace(hour=0)
    return [current - period.step * back for back in range(period.buckets - 1, -1, -1)]


def series(error_ids, period, now=None):
    """{error id: [(start, count), …]} for every id, one query for all of them."""
    starts = bucket_starts(period, now)
    counted = {}
    rows = EventBucket.objects.filter(error_id__in=error_ids, span=period.span, start__gte=starts[0])
    for error_id, start, count in rows.values_list("error_id", "start", "count"):
        counted[(error_id, start)] = count
    return {error_id: [(start, counted.get((error_id, start), 0)) for start in starts] for error_id in error_ids}
