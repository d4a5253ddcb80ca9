"""The one write path for reports: group by fingerprint, count (in total, over time, in distinct
users), keep the newest occurrences."""

import functools
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from errors.models import OCCURRENCES_KEPT, SYSTEM, Activity, Alert, EventBucket
from errors.stats import hour_start
from grouping.fingerprint import compute_fingerprint, overflow_fingerprint
from grouping.stacktrace import JAVASCRIPT, Frame, Stack, parse_stack
from notifications.alerts import queue_alert
from releases.recording import note_release, release_first_seen
from releases.versions import is_older

from .committed import CommittedSet
from .groupcommit import GroupCommit
from .scrub import Scrubber
from .symbolicate import Symbolicated, symbolicate
from .users import count_user

logger = logging.getLogger("errors.ingest")
group_commit = GroupCommit()

OVERFLOW_TYPE = "Overflow"
OVERFLOW_SOURCE = "overflow"


@dataclass(frozen=True)
class Report:
    """A validated report, as validation.validate_report produces it."""

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
    release: str = ""
    # The client's own grouping: its fingerprint parts (grouping.fingerprint.custom_fingerprint).
    fingerprint: tuple[str, ...] | None = None
    # Frames a client sent as data (Sentry events), grouped as sent rather than parsed from text.
    stack: Stack | None = None
    # What a report with no frames is grouped by, when not its message: a captured message's template.
    message_template: str = ""
    # Minified file -> its debug ID, from a Sentry event's debug_meta (releases.lookup).
    debug_ids: dict | None = None


@dataclass(frozen=True)
class Recorded:
    """What happened to one report."""

    error_id: int
    fingerprint: str
    count: int
    created: bool
    reopened: bool
    # This report ended the group's mute (its Nth event, or the first after its time).
    unmuted: bool = False
    # The group's sampling level of distinct users (errors.userhash).
    users_level: int = 0

    @property
    def alert_kind(self):
        """What this report is worth telling people, if anything."""
        if self.created:
            return Alert.NEW
        if self.reopened:
            return Alert.REGRESSION
        return Alert.UNMUTED if self.unmuted else None


@functools.lru_cache(maxsize=4)
def scrubber_for(names):
    """One Scrubber per SCRUB_FIELDS value, so it remembers the names it has judged."""
    return Scrubber(names)


def guess_source(stack):
    """`browser` for a JavaScript stack whose frames are web URLs, else `backend`."""
    if stack.language == JAVASCRIPT and any(f.file.startswith(("http://", "https://")) for f in stack.frames):
        return "browser"
    return "backend"


@dataclass(frozen=True)
class Grouping:
    """How a report is grouped: its stack (source-mapped), culprit frame and fingerprint."""

    stack: Stack
    culprit: Frame | None
    fingerprint: str
    strategy: str
    symbolicated: Symbolicated


def group_report(report, strategy, project_id=None, dry_run=False):
    """Symbolicate, then group: the stack as sent or parsed, minified frames resolved through
    the project's source maps (none for a project not yet stored)."""
    stack = report.stack if report.stack is not None else parse_stack(report.traceback)
    symbolicated = symbolicate(stack, project_id, report.release, report.debug_ids, dry_run)
    stack = symbolicated.stack
    fingerprint = compute_fingerprint(
        report.project, report.exception_type, stack, strategy, report.message_template or report.message, report.fingerprint
    )
    return Grouping(stack, stack.culprit, fingerprint, strategy, symbolicated)


def record_error(report, project, received_at=None):
    """Count `report` into its group, creating or reopening the group, in one transaction
    (on SQLite, shared with the reports of other threads that wait for the write lock:
    ingest.groupcommit).

    `project` (projects.auth.ProjectSettings) is the report's project: its fingerprint strategy
    and its cap on new groups an hour, past which new fingerprints count into one overflow group.
    `received_at` is when the report arrived: a group resolved after that stays resolved.

    Secrets in the request context are filtered first: nothing below stores or logs them.
    Everything but the SQL is prepared before the transaction, which on SQLite holds the one
    write lock, so the time other writers wait is the time of its short statements (usually
    four: the group's count, its buckets, the occurrence and the trim of old ones).
    """
    started = time.perf_counter()
    received_at = received_at or timezone.now()
    scrubber = scrubber_for(tuple(settings.SCRUB_FIELDS))
    grouping = group_report(report, project.strategy, project.id)
    culprit = grouping.culprit
    group = {
        "fingerprint": grouping.fingerprint,
        "project": report.project,
        "exception_type": report.exception_type,
        "environment": report.environment,
        "message": report.message,
        "traceback": grouping.symbolicated.traceback(report.traceback),
        "source": report.source or guess_source(grouping.symbolicated.reported),
        "culprit_file": culprit.file if culprit else "",
        "culprit_line": culprit.line if culprit else None,
        "culprit_function": culprit.function if culprit else "",
        "culprit_context": grouping.symbolicated.culprit_context(),
        "release": report.release,
    }
    occurrence = {
        "environment": report.environment,
        "message": report.message,
        "request_url": scrubber.scrub_url(report.request_url),
        "request_method": report.request_method,
        "request_headers": _json_or_none(scrubber.scrub_mapping(report.request_headers)),
        "user_id": report.user_id,
        "extra": _json_or_none(scrubber.scrub_mapping(report.extra)),
        "release": report.release,
    }
    recorded = group_commit.run(lambda: _write_report(report, project, group, occurrence, received_at))
    logger.info(
        "report project=%s status=%s fingerprint=%s count=%d ms=%.1f",
        report.project,
        "created" if recorded.created else "existing",
        recorded.fingerprint,
        recorded.count,
        (time.perf_counter() - started) * 1000,
    )
    return recorded


def _write_report(report, project, group, occurrence, received_at):
    """The report's statements; its caller (GroupCommit) holds the transaction."""
    moment = timezone.now()
    now = connection.ops.adapt_datetimefield_value(moment)
    with connection.cursor() as cursor:
        if report.release:
            note_release(cursor, project.id, report.release, now)
        recorded = _count_into_group(cursor, group, project, now, connection.ops.adapt_datetimefield_value(received_at))
        if recorded.reopened:
            cursor.execute(_NOTE_ACTIVITY, [recorded.error_id, Activity.REGRESSION, SYSTEM, report.release, now])
        if recorded.unmuted:
            cursor.execute(_NOTE_ACTIVITY, [recorded.error_id, Activity.UNMUTED, SYSTEM, "", now])
        _count_in_buckets(cursor, recorded.error_id, moment)
        if report.user_id:
            count_user(cursor, recorded.error_id, recorded.users_level, report.user_id)
        _store_occurrence(cursor, recorded, occurrence, now)
        _note_environment(cursor, recorded.error_id, report.environment)
    if recorded.alert_kind is not None:
        queue_alert(recorded.error_id, recorded.alert_kind, report.environment, project)
    return recorded


_GROUP_COLUMNS = [
    "fingerprint", "project", "exception_type", "environment", "message", "traceback", "source",
    "culprit_file", "culprit_line", "culprit_function", "culprit_context", "release",
]
# The newest report's text and culprit replace the group's; first_seen never changes. Whether it
# stays resolved or muted was decided with the row locked (_count_into_group); when it does, it
# keeps when it was resolved and what its mute waits for.
_LATEST_COLUMNS = [
    "environment", "message", "traceback", "source", "culprit_file", "culprit_line", "culprit_function",
    "culprit_context", "release", "resolved", "resolved_in_release", "resolved_in_next_release", "muted",
]
_KEPT_WHILE = {"resolved_at": "resolved", "muted_until": "muted", "muted_until_count": "muted"}
_UPSERT_GROUP = (
    f"INSERT INTO errors ({', '.join(_GROUP_COLUMNS)}, count, first_seen, last_seen, resolved, resolved_in_release, "
    f"resolved_in_next_release, muted) VALUES ({', '.join(['%s'] * len(_GROUP_COLUMNS))}, 1, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (fingerprint) DO UPDATE SET count = errors.count + 1, last_seen = excluded.last_seen, "
    f"{', '.join(f'{c} = excluded.{c}' for c in _LATEST_COLUMNS)}, "
    f"{', '.join(f'{c} = CASE WHEN excluded.{flag} THEN errors.{c} END' for c, flag in _KEPT_WHILE.items())} "
    "RETURNING id, count, users_level"
)
_OCCURRENCE_COLUMNS = [
    "error_id", "timestamp", "environment", "message", "request_url", "request_method", "request_headers",
    "user_id", "extra", "release",
]
_INSERT_OCCURRENCE = (
    f"INSERT INTO error_occurrences ({', '.join(_OCCURRENCE_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(_OCCURRENCE_COLUMNS))})"
)
_TRIM_OCCURRENCES = (
    "DELETE FROM error_occurrences WHERE error_id = %s AND id < ("
    "SELECT id FROM error_occurrences WHERE error_id = %s ORDER BY id DESC LIMIT 1 OFFSET %s)"
)


_NOTE_ACTIVITY = "INSERT INTO error_activity (error_id, kind, actor, detail, at) VALUES (%s, %s, %s, %s, %s)"

# One statement for both of the report's buckets: its clock hour and its day (UTC).
_COUNT_IN_BUCKETS = (
    "INSERT INTO error_buckets (error_id, span, start, count) VALUES (%s, %s, %s, 1), (%s, %s, %s, 1) "
    "ON CONFLICT (error_id, span, start) DO UPDATE SET count = error_buckets.count + 1"
)

_TAKE_NEW_GROUP = (
    "INSERT INTO new_group_budget (project_id, window_start, used) VALUES (%s, %s, 1) "
    "ON CONFLICT (project_id, window_start) DO UPDATE SET used = new_group_budget.used + 1 "
    "WHERE new_group_budget.used < %s RETURNING used"
)


@dataclass(frozen=True)
class PreviousState:
    """What a report's group was before it, read with the row locked."""

    resolved: bool
    in_release: str
    in_next_release: bool
    # Resolved after the report arrived: it was in flight, and must not reopen the group.
    resolved_since_received: bool
    muted: bool
    mute_time_over: bool
    muted_until_count: int | None
    count: int

    @property
    def mute_kept(self):
        """Whether the group stays muted with this report counted."""
        if not self.muted or self.mute_time_over:
            return False
        return self.muted_until_count is None or self.count + 1 < self.muted_until_count


_PREVIOUS_STATE = (
    "SELECT resolved, resolved_in_release, resolved_in_next_release, "
    "(resolved_at IS NOT NULL AND resolved_at > %s), muted, (muted_until IS NOT NULL AND muted_until <= %s), "
    "muted_until_count, count FROM errors WHERE fingerprint = %s"
)


def _previous_state(cursor, fingerprint, received_at, now):
    """The group's PreviousState, its row locked; None for a new fingerprint."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(_PREVIOUS_STATE + lock, [received_at, now, fingerprint])
    row = cursor.fetchone()
    if row is None:
        return None
    resolved, in_release, in_next, since_received, muted, time_over, until_count, count = row
    return PreviousState(
        bool(resolved), in_release, bool(in_next), bool(since_received), bool(muted), bool(time_over), until_count, count
    )


def _resolution_kept(cursor, before, project, release):
    """The (resolved, in_release, in_next_release) a group keeps after a report of `release`:
    a resolution made after the report arrived holds, and a resolution in a release holds
    against reports from older releases (releases.versions)."""
    if before is None or not before.resolved:
        return (False, "", False)
    in_release, in_next = before.in_release, before.in_next_release
    if before.resolved_since_received:
        return (True, in_release, in_next)
    if not in_release or not release:
        return (False, "", False)
    first_seen = release_first_seen(cursor, project.id)
    older = is_older(release, in_release, first_seen)
    if older or (in_next and release == in_release):
        return (True, in_release, in_next)
    return (False, "", False)


def _may_open_group(cursor, project, now):
    """Take one of this clock hour's new groups for the project: one conditional upsert, so
    concurrent reports in any process or instance cannot together pass the cap."""
    window = hour_start(now)
    cursor.execute(_TAKE_NEW_GROUP, [project.id, connection.ops.adapt_datetimefield_value(window), project.new_groups_per_hour])
    return cursor.fetchone() is not None


def overflow_group(group, project):
    """Where a project's reports of new fingerprints go past its hourly cap: counted, not lost."""
    return {
        **group,
        "fingerprint": overflow_fingerprint(project.name),
        "exception_type": OVERFLOW_TYPE,
        "message": (
            f"Reports of new kinds of errors past this project's limit of {project.new_groups_per_hour} "
            "new groups an hour are counted here; each occurrence keeps the report's own message."
        ),
        "traceback": "",
        "source": OVERFLOW_SOURCE,
        "culprit_file": "",
        "culprit_line": None,
        "culprit_function": "",
        "culprit_context": "",
    }


# The common report, of a group that exists and is neither resolved nor muted, in one statement:
# what the upsert below would write for it, with nothing to decide. A group resolved or muted
# meanwhile fails the WHERE, on PostgreSQL too (rechecked once the row lock is taken).
_OPEN_GROUP_LATEST = [
    c for c in _LATEST_COLUMNS if c not in ("resolved", "resolved_in_release", "resolved_in_next_release", "muted")
]
_COUNT_INTO_OPEN_GROUP = (
    "UPDATE errors SET count = count + 1, last_seen = %s, "
    f"{', '.join(f'{c} = %s' for c in _OPEN_GROUP_LATEST)}, "
    "resolved_in_release = '', resolved_in_next_release = FALSE, "
    f"{', '.join(f'{c} = NULL' for c in _KEPT_WHILE)} "
    "WHERE fingerprint = %s AND NOT resolved AND NOT muted RETURNING id, count, users_level"
)


def _count_into_open_group(cursor, group, now):
    """Count the report into its group if that exists and is neither resolved nor muted;
    None otherwise."""
    cursor.execute(_COUNT_INTO_OPEN_GROUP, [now, *(group[c] for c in _OPEN_GROUP_LATEST), group["fingerprint"]])
    row = cursor.fetchone()
    if row is None:
        return None
    error_id, count, users_level = row
    return Recorded(error_id, group["fingerprint"], count, created=False, reopened=False, users_level=users_level)


def _count_into_group(cursor, group, project, now, received_at):
    """Count the report into its group: in one statement when the group is open, else create
    the group or count into it with one upsert, saying whether it was resolved or muted before,
    and whether it still is.

    The previous state is read first with the row locked (FOR UPDATE on PostgreSQL; on SQLite
    the IMMEDIATE transaction already holds the database's write lock), so of several reports
    reopening or unmuting a group exactly one sees it resolved or muted. Two reports of a new
    fingerprint meet in ON CONFLICT: one inserts, the other counts into that row.
    """
    counted = _count_into_open_group(cursor, group, now)
    if counted is not None:
        return counted
    before = _previous_state(cursor, group["fingerprint"], received_at, now)
    if before is None and not _may_open_group(cursor, project, timezone.now()):
        group = overflow_group(group, project)
        before = _previous_state(cursor, group["fingerprint"], received_at, now)
    resolution = _resolution_kept(cursor, before, project, group["release"])
    muted = before is not None and before.mute_kept
    cursor.execute(_UPSERT_GROUP, [*(group[c] for c in _GROUP_COLUMNS), now, now, *resolution, muted])
    error_id, count, users_level = cursor.fetchone()
    return Recorded(
        error_id, group["fingerprint"], count, created=count == 1,
        reopened=before is not None and before.resolved and not resolution[0],
        unmuted=before is not None and before.muted and not muted, users_level=users_level,
    )


def _count_in_buckets(cursor, error_id, moment):
    """Count the report in its group's hourly and daily buckets (errors.EventBucket)."""
    hour = hour_start(moment)
    adapt = connection.ops.adapt_datetimefield_value
    cursor.execute(
        _COUNT_IN_BUCKETS,
        [error_id, EventBucket.HOUR, adapt(hour), error_id, EventBucket.DAY, adapt(hour.replace(hour=0))],
    )


def _store_occurrence(cursor, recorded, occurrence, now):
    """Store the report's occurrence and drop all but the newest OCCURRENCES_KEPT."""
    values = {**occurrence, "error_id": recorded.error_id, "timestamp": now}
    cursor.execute(_INSERT_OCCURRENCE, [values[c] for c in _OCCURRENCE_COLUMNS])
    if recorded.count > OCCURRENCES_KEPT:
        cursor.execute(_TRIM_OCCURRENCES, [recorded.error_id, recorded.error_id, OCCURRENCES_KEPT - 1])


_INSERT_ENVIRONMENT = (
    "INSERT INTO error_environments (error_id, environment) VALUES (%s, %s) "
    "ON CONFLICT (error_id, environment) DO NOTHING"
)
# (group, environment) pairs this process knows are stored, so the insert runs once per pair
# rather than once per report.
known_environments = CommittedSet(100_000)


def _note_environment(cursor, error_id, environment):
    pair = (error_id, environment)
    if pair in known_environments:
        return
    cursor.execute(_INSERT_ENVIRONMENT, [error_id, environment])
    known_environments.add_on_commit(pair)


def _json_or_none(value):
    return None if value is None else json.dumps(value)
