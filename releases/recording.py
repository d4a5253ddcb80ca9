"""Releases as reports name them: one row per (project, version), seen times kept in SQL."""

_NOTE_RELEASE = (
    "INSERT INTO releases (project_id, version, date_created, first_seen, last_seen) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (project_id, version) DO UPDATE SET last_seen = excluded.last_seen, "
    "first_seen = COALESCE(releases.first_seen, excluded.first_seen)"
)


def note_release(cursor, project_id, version, now):
    """Record that a report of `version` arrived now: one upsert, so concurrent first reports
    of a new release make one row."""
    cursor.execute(_NOTE_RELEASE, [project_id, version, now, now, now])


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
