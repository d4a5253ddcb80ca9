"""Releases as reports name them: one row per (project, version), seen times kept in SQL."""

import time

from django.db import IntegrityError, transaction

from .models import Release

_NOTE_RELEASE = (
    "INSERT INTO releases (project_id, version, date_created, first_seen, last_seen) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (project_id, version) DO UPDATE SET last_seen = excluded.last_seen, "
    "first_seen = COALESCE(releases.first_seen, excluded.first_seen)"
)


# (project, version) -> when this process last wrote its last_seen. Every report of a release
# would otherwise update that one row, and on PostgreSQL wait for each other's row lock.
LAST_SEEN_RESOLUTION_SECONDS = 60
_noted = {}
NOTED_KEPT = 10_000


def note_release(cursor, project_id, version, now):
    """Record that a report of `version` arrived now: one upsert, so concurrent first reports
    of a new release make one row; last_seen is written at most once a minute per process."""
    key = (project_id, version)
    seen = _noted.get(key)
    if seen is not None and time.monotonic() - seen < LAST_SEEN_RESOLUTION_SECONDS:
        return
    cursor.execute(_NOTE_RELEASE, [project_id, version, now, now, now])

    def remember():
        if len(_noted) >= NOTED_KEPT:
            _noted.clear()
        _noted[key] = time.monotonic()

    transaction.on_commit(remember)


def forget_noted_releases():
    _noted.clear()


def release_first_seen(cursor, project_id):
    """A function: version -> when it was first seen (or announced, if never seen), else None."""

    def first_seen(version):
        cursor.execute(
            "SELECT COALESCE(first_seen, date_created) FROM releases WHERE project_id = %s AND version = %s",
            [project_id, version],
        )
        row = cursor.fetchone()
        # Compared only with each other: ISO text on SQLite, datetimes on PostgreSQL.
        return None if row is None else row[0]

    return first_seen


def announce_release(version, projects, date_released=None):
    """A release a tool announced (`sentry-cli releases new` / `finalize`), for each project;
    returns their rows. Announcing one twice changes nothing but a new release date."""
    for project in projects:
        try:
            with transaction.atomic():
                Release.objects.get_or_create(project=project, version=version)
        except IntegrityError:
            pass  # announced by a concurrent request, or first seen in a report meanwhile
        if date_released is not None:
            Release.objects.filter(project=project, version=version).update(date_released=date_released)
    return Release.objects.filter(version=version, project__in=projects).select_related("project")
