"""Error groups and their kept occurrences, in the spec's tables `errors` and `error_occurrences`."""

import json
from datetime import timedelta

from django.db import models, transaction
from django.db.models.functions import Now
from django.utils import timezone

from projects.models import AlertChannel
from releases.models import RELEASE_CHARACTERS, Release

OCCURRENCES_KEPT = 5
# Events over time: hourly counts for the last 14 days, daily counts for the last 90.
HOURLY_BUCKETS_KEPT = timedelta(days=14)
DAILY_BUCKETS_KEPT = timedelta(days=90)

# A group's status, as the API names it beside the spec's `resolved`.
UNRESOLVED, RESOLVED, MUTED = "unresolved", "resolved", "muted"


# Who changed a group's status, when it was not a person: a report reopening it.
SYSTEM = "system"


class ErrorQuerySet(models.QuerySet):
    """Resolve and reopen as one UPDATE, and record who did it: the API, the admin page and
    bulk actions share these."""

    def resolve(self, in_release="", in_next_release=False, actor=SYSTEM):
        """Resolved: any report received after now reopens. In a release: only reports from
        that release or a newer one reopen. In the next release: only reports from a release
        newer than `in_release`, the newest one known when it was resolved."""
        if in_next_release:
            kind = Activity.RESOLVED_IN_NEXT_RELEASE
        else:
            kind = Activity.RESOLVED_IN_RELEASE if in_release else Activity.RESOLVED
        return self._change(kind, actor, in_release, resolved=True, resolved_in_release=in_release,
                            resolved_in_next_release=in_next_release, resolved_at=timezone.now(), **_NOT_MUTED)

    def reopen(self, actor=SYSTEM):
        return self._change(Activity.UNRESOLVED, actor, "", **_UNRESOLVED, **_NOT_MUTED)

    def mute(self, until=None, events=None, actor=SYSTEM):
        """Muted: counted, hidden from the default list, no alerts; until a time, until `events`
        more reports, or (neither given) until someone unmutes it."""
        if until is not None:
            detail = f"until {until.isoformat()}"
        elif events is not None:
            detail = f"for {events} more event(s)"
        else:
            detail = ""
        return self._change(
            Activity.MUTED, actor, detail, **_UNRESOLVED, muted=True, muted_until=until,
            muted_until_count=None if events is None else models.F("count") + events,
        )

    def unmute(self, actor=SYSTEM):
        """Unmute the muted ones among these; returns how many."""
        return self.filter(muted=True)._change(Activity.UNMUTED, actor, "", **_NOT_MUTED)

    def _change(self, kind, actor, detail, **status):
        """Change the status of these groups and record it, once per group: the rows are locked
        (on SQLite the transaction holds the write lock), so of two callers racing to change the
        same group under a condition (say, muted), the second finds nothing left to change."""
        with transaction.atomic():
            ids = list(self.select_for_update().values_list("pk", flat=True))
            changed = Error.objects.filter(pk__in=ids).update(**status)
            Activity.objects.bulk_create(Activity(error_id=pk, kind=kind, actor=actor[:200], detail=detail) for pk in ids)
        return changed


_UNRESOLVED = {"resolved": False, "resolved_in_release": "", "resolved_in_next_release": False, "resolved_at": None}
_NOT_MUTED = {"muted": False, "muted_until": None, "muted_until_count": None}


class Error(models.Model):
    """One row per fingerprint: the group every matching report is counted into."""

    objects = ErrorQuerySet.as_manager()

    fingerprint = models.CharField(max_length=32, unique=True)
    project = models.CharField(max_length=100)
    environment = models.CharField(max_length=50)
    exception_type = models.CharField(max_length=200)
    message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    # 64-bit: one error reported 2^31 times must not overflow the column.
    count = models.BigIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)
    source = models.CharField(max_length=20, default="backend")
    # The frame the fingerprint was taken from (errors/stacktrace.py), shown without the traceback.
    culprit_file = models.TextField(blank=True, default="")
    culprit_line = models.IntegerField(null=True, blank=True)
    culprit_function = models.TextField(blank=True, default="")
    # The source lines around a source-mapped culprit, JSON {"pre", "line", "post"}; else empty.
    culprit_context = models.TextField(blank=True, db_default="")
    # The newest report's release, and what a resolution waits for (ErrorQuerySet.resolve).
    # Defaults in the schema too: the ingest upsert is written in SQL.
    release = models.CharField(max_length=RELEASE_CHARACTERS, blank=True, db_default="")
    resolved_in_release = models.CharField(max_length=RELEASE_CHARACTERS, blank=True, db_default="")
    resolved_in_next_release = models.BooleanField(db_default=False)
    # Reports received before this instant do not reopen the group, however late they commit.
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Muted until a time, until `count` reaches muted_until_count, or (both empty) until unmuted.
    muted = models.BooleanField(db_default=False)
    muted_until = models.DateTimeField(null=True, blank=True)
    muted_until_count = models.BigIntegerField(null=True, blank=True)
    # Distinct users: the hashes kept in error_users are every user's while users_level is 0,
    # and one in 2**users_level of them (those with the top bits zero) after (ingest.users).
    users_sampled = models.IntegerField(db_default=0)
    users_level = models.SmallIntegerField(db_default=0)

    class Meta:
        db_table = "errors"
        ordering = ["-last_seen", "-id"]
        indexes = [
            models.Index(fields=["-last_seen", "-id"], name="errors_last_seen_idx"),
            models.Index(fields=["project", "-last_seen"], name="errors_project_idx"),
            models.Index(fields=["resolved", "-last_seen"], name="errors_resolved_idx"),
            # The admin's environment and source filters list their distinct values.
            models.Index(fields=["environment"], name="errors_environment_idx"),
            models.Index(fields=["source"], name="errors_source_idx"),
            # The jobs thread unmutes groups whose mute has run out.
            models.Index(fields=["muted_until"], name="errors_muted_until_idx"),
            # The default list (muted hidden) in its order, which a search checks its matches against.
            models.Index(fields=["muted", "-last_seen", "-id"], name="errors_muted_idx"),
            # A search's release: filter.
            models.Index(fields=["release"], name="errors_release_idx"),
        ]

    def __str__(self):
        headline = (self.message.strip().splitlines() or [""])[0]
        return f"{self.exception_type}: {headline[:80]}" if headline else self.exception_type

    @property
    def culprit(self):
        if not self.culprit_file and self.culprit_line is None:
            return None
        return {"file": self.culprit_file, "line": self.culprit_line, "function": self.culprit_function}

    @property
    def status(self):
        if self.resolved:
            return RESOLVED
        return MUTED if self.muted else UNRESOLVED

    @property
    def users(self):
        """Distinct users counted: exact while `users_estimated` is false."""
        return self.users_sampled << self.users_level

    @property
    def users_estimated(self):
        return self.users_level > 0

    def resolve(self, in_release="", in_next_release=False, actor=SYSTEM):
        """Mark resolved; a later report of the same fingerprint reopens it (see ingest), or in a
        release only a report from a release not older than it."""
        Error.objects.filter(pk=self.pk).resolve(in_release, in_next_release, actor)
        self.refresh_from_db()

    def resolve_in(self, in_release="", in_next_release=False, actor=SYSTEM):
        """Resolve plainly, in `in_release`, or in the release after the project's newest."""
        if in_next_release:
            newest = Release.objects.filter(project__name=self.project).newest()
            if newest is None:
                raise NoReleaseYet(f"No report of project {self.project!r} has named a release yet.")
            in_release = newest.version
        self.resolve(in_release, in_next_release, actor)

    def reopen(self, actor=SYSTEM):
        Error.objects.filter(pk=self.pk).reopen(actor)
        self.refresh_from_db()

    def mute(self, until=None, events=None, actor=SYSTEM):
        Error.objects.filter(pk=self.pk).mute(until, events, actor)
        self.refresh_from_db()

    def unmute(self, actor=SYSTEM):
        Error.objects.filter(pk=self.pk).unmute(actor)
        self.refresh_from_db()


class NoReleaseYet(Exception):
    """"Resolved in the next release" needs a release to come after."""


class Occurrence(models.Model):
    """One received report; only the newest OCCURRENCES_KEPT per group are kept."""

    # The (error, -id) index below serves both the FK and the newest-first trim.
    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="occurrences", db_index=False)
    timestamp = models.DateTimeField(default=timezone.now)
    environment = models.CharField(max_length=50, blank=True, default="")
    message = models.TextField(blank=True, default="")
    request_url = models.TextField(blank=True, default="")
    request_method = models.CharField(max_length=10, blank=True, default="")
    # JSON text, as the spec's schema has it; `headers` and `extra_data` decode it.
    request_headers = models.TextField(null=True, blank=True)
    user_id = models.CharField(max_length=200, blank=True, default="")
    extra = models.TextField(null=True, blank=True)
    release = models.CharField(max_length=RELEASE_CHARACTERS, blank=True, db_default="")

    class Meta:
        db_table = "error_occurrences"
        ordering = ["-id"]
        indexes = [models.Index(fields=["error", "-id"], name="occurrences_error_idx")]

    def __str__(self):
        return f"{self.error_id} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"

    @property
    def headers(self):
        return json.loads(self.request_headers) if self.request_headers else None

    @property
    def extra_data(self):
        return json.loads(self.extra) if self.extra else None


class GroupEnvironment(models.Model):
    """An environment a group was seen in: the group shows its newest report's, and is found
    under every one of these."""

    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="environments")
    environment = models.CharField(max_length=50)

    class Meta:
        db_table = "error_environments"
        constraints = [models.UniqueConstraint(fields=["error", "environment"], name="error_environment_once")]
        indexes = [models.Index(fields=["environment", "error"], name="error_environments_env_idx")]


class EventBucket(models.Model):
    """How many reports a group had in one clock hour or one day (UTC): written by ingest's
    upsert, kept for HOURLY_BUCKETS_KEPT or DAILY_BUCKETS_KEPT (maintenance.retention)."""

    HOUR = "h"
    DAY = "d"
    SPANS = [(HOUR, "hour"), (DAY, "day")]

    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="buckets", db_index=False)
    span = models.CharField(max_length=1, choices=SPANS)
    start = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "error_buckets"
        constraints = [models.UniqueConstraint(fields=["error", "span", "start"], name="error_bucket_once")]
        indexes = [models.Index(fields=["span", "start"], name="error_buckets_age_idx")]


class GroupUser(models.Model):
    """A user a group was reported for, as a 63-bit hash of its user_id (ingest.users)."""

    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="user_hashes", db_index=False)
    user_hash = models.BigIntegerField()

    class Meta:
        db_table = "error_users"
        constraints = [models.UniqueConstraint(fields=["error", "user_hash"], name="error_user_once")]
        # A search's user: filter finds the groups of one user.
        indexes = [models.Index(fields=["user_hash", "error"], name="error_users_hash_idx")]


class Activity(models.Model):
    """A change of a group's status: who made it (an admin user, the API key, or the system
    when a report reopened or unmuted the group) and when."""

    RESOLVED = "resolved"
    RESOLVED_IN_RELEASE = "resolved_in_release"
    RESOLVED_IN_NEXT_RELEASE = "resolved_in_next_release"
    UNRESOLVED = "unresolved"
    REGRESSION = "regression"
    MUTED = "muted"
    UNMUTED = "unmuted"
    KINDS = [
        (RESOLVED, "resolved"),
        (RESOLVED_IN_RELEASE, "resolved in a release"),
        (RESOLVED_IN_NEXT_RELEASE, "resolved in the next release"),
        (UNRESOLVED, "reopened by a person"),
        (REGRESSION, "reopened by a new report"),
        (MUTED, "muted"),
        (UNMUTED, "unmuted"),
    ]

    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="activity", db_index=False)
    kind = models.CharField(max_length=40, choices=KINDS)
    actor = models.CharField(max_length=200)
    # The release of a resolution in one; how long a mute lasts.
    detail = models.CharField(max_length=RELEASE_CHARACTERS, blank=True, db_default="")
    at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "error_activity"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["error", "-at"], name="error_activity_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.actor}"


class Alert(models.Model):
    """An alert to send about a group, by email (no channel) or to one of its project's
    channels: written in the ingest transaction, sent by the worker.

    Writing it with the report (an outbox) means a rolled-back report alerts nobody and a
    restart loses no alert; workers claim each row with a conditional update.
    """

    NEW = "new"
    REGRESSION = "regression"
    UNMUTED = "unmuted"
    KINDS = [(NEW, "New error"), (REGRESSION, "Regression"), (UNMUTED, "Unmuted")]

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    STATUSES = [(s, s) for s in (PENDING, SENDING, SENT, SUPPRESSED, FAILED)]

    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="alerts")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    kind = models.CharField(max_length=20, choices=KINDS)
    status = models.CharField(max_length=20, choices=STATUSES, default=PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.IntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # A suppressed alert is counted in the next email sent, once.
    suppression_reported = models.BooleanField(default=False)

    class Meta:
        db_table = "error_alerts"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="alerts_due_idx"),
            models.Index(fields=["status", "sent_at"], name="alerts_sent_idx"),
        ]


class AlertBudget(models.Model):
    """How many alerts one destination (email, or one channel) was sent in one clock hour
    (ALERT_MAX_PER_HOUR).

    Sending takes one with a conditional UPDATE, so the cap holds across workers and instances.
    """

    destination = models.CharField(max_length=40)
    window = models.DateTimeField()
    used = models.IntegerField(default=0)

    class Meta:
        db_table = "alert_budgets"
        constraints = [models.UniqueConstraint(fields=["destination", "window"], name="alert_budget_once")]


class NewGroupBudget(models.Model):
    """How many new groups a project opened in one clock hour (Project.new_groups_per_hour);
    ingest's store takes one with a conditional upsert."""

    project_id = models.BigIntegerField()
    window_start = models.DateTimeField()
    used = models.IntegerField(default=0)

    class Meta:
        db_table = "new_group_budget"
        constraints = [models.UniqueConstraint(fields=["project_id", "window_start"], name="new_group_budget_once")]


class JobLease(models.Model):
    """When a periodic job may next run; claiming it is one conditional UPDATE."""

    name = models.CharField(max_length=50, primary_key=True)
    next_run_at = models.DateTimeField()

    class Meta:
        db_table = "job_leases"
