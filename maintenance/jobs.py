"""The service's background work: ending mutes that ran out, alert sending, and the daily
retention purge (resolved groups, old event-count buckets, unused source-map bundles).

One thread in each instance's main server process (tracker/server.py). Alert rows are claimed
one by one and the retention run by a lease row, so any number of instances can run this
thread side by side. It polls every POLL_SECONDS: an alert goes out within about that long.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from errors.models import AlertBudget, JobLease, NewGroupBudget
from notifications import alerts
from releases.uploads import purge_unused_bundles

from .mutes import unmute_expired
from .retention import purge_old_buckets, purge_projects

logger = logging.getLogger("errors.jobs")

RETENTION_INTERVAL = timedelta(hours=24)
POLL_SECONDS = 2


def claim_lease(name, interval, now=None):
    """True for exactly one caller per `interval`, across processes and instances."""
    now = now or timezone.now()
    JobLease.objects.get_or_create(name=name, defaults={"next_run_at": now})
    return JobLease.objects.filter(name=name, next_run_at__lte=now).update(next_run_at=now + interval) == 1


def run_retention_if_due(now=None):
    if claim_lease("retention", RETENTION_INTERVAL, now):
        purge_projects()
        purge_old_buckets(now or timezone.now())
        purge_unused_bundles()
        forget_old_budgets(now or timezone.now())


def forget_old_budgets(now):
    """Hourly counters (new groups, alerts per destination) are needed for the current hour only."""
    hour_ago = now - timedelta(hours=1)
    NewGroupBudget.objects.filter(window_start__lt=hour_ago).delete()
    AlertBudget.objects.filter(window__lt=hour_ago).delete()


class BackgroundJobs(threading.Thread):
    def __init__(self):
        super().__init__(name="error-tracker-jobs", daemon=True)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.started_at = time.monotonic()

    def run(self):
        while not self.stopping.is_set():
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()
            if self.stopping.is_set():
                break
            self._tick()

    def _tick(self):
        jobs = [unmute_expired, alerts.send_due_alerts]
        if time.monotonic() - self.started_at >= settings.RETENTION_FIRST_RUN_DELAY:
            jobs.append(run_retention_if_due)
        try:
            for job in jobs:
                try:
                    job()
                except Exception:
                    # The thread must outlive a database outage or a bug in one job, and one
                    # job's failure must not hold up the others; log and go on.
                    logger.exception("background job %s failed", job.__name__)
        finally:
            close_old_connections()

    def stop(self, timeout=10):
        self.stopping.set()
        self.wake.set()
        self.join(timeout)


_jobs = None


def start():
    global _jobs
    logger.info(alerts.describe_alert_configuration())
    _jobs = BackgroundJobs()
    _jobs.start()


def stop():
    if _jobs is not None:
        _jobs.stop()
