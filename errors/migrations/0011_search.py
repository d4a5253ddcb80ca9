"""The search index of groups (errors.search), kept in step with `errors` by triggers.

Each group's exception type, message, culprit file and function and traceback are indexed, cut
to at most about 76,000 characters: PostgreSQL refuses a tsvector whose words add up to over
1 MB (a letter takes up to 4 bytes), which would roll back the report. A traceback over 64 K
characters is indexed by its first and last 32 K: the outermost frames and the innermost, where
Python prints the raise.
Ingest rewrites a group's text on every report, usually to the same text: the update triggers
re-index only when an indexed column changed.

SQLite drops a table's triggers with it: a later migration that makes Django rebuild `errors`
on SQLite must create these triggers again (tests/test_search.py would show the index stale).
"""

from django.db import migrations, models

# (column, characters indexed); the traceback's cut is _traceback below.
_COLUMNS = [("exception_type", 200), ("message", 8192), ("culprit_file", 1000), ("culprit_function", 1000)]
_TRACEBACK_WHOLE, _TRACEBACK_END = 65536, 32768


def _cut(row, last):
    """The indexed text of `row` as SQL, one expression a column; `last` is the SQL of a
    text's last characters, which differs between engines."""
    cuts = [f"substr({row}.{column}, 1, {size})" for column, size in _COLUMNS]
    traceback = f"{row}.traceback"
    cuts.append(
        f"CASE WHEN length({traceback}) <= {_TRACEBACK_WHOLE} THEN {traceback} "
        f"ELSE substr({traceback}, 1, {_TRACEBACK_END}) || ' ' || {last(traceback, _TRACEBACK_END)} END"
    )
    return ", ".join(cuts)


_INDEXED = ", ".join(column for column, _size in _COLUMNS) + ", traceback"
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _INDEXED.split(", "))


def _sqlite_cut(row):
    return _cut(row, lambda text, size: f"substr({text}, -{size})")


# Contentless FTS5: the text stays in `errors`; removing a row's words takes its old text.
SQLITE = [
    "CREATE VIRTUAL TABLE error_search USING fts5("
    f"{_INDEXED}, content='', columnsize=0, tokenize='unicode61')",
    f"INSERT INTO error_search (rowid, {_INDEXED}) SELECT id, {_sqlite_cut('errors')} FROM errors",
    "CREATE TRIGGER error_search_insert AFTER INSERT ON errors BEGIN "
    f"INSERT INTO error_search (rowid, {_INDEXED}) VALUES (new.id, {_sqlite_cut('new')}); END",
    f"CREATE TRIGGER error_search_update AFTER UPDATE OF {_INDEXED} ON errors WHEN {_CHANGED} BEGIN "
    f"INSERT INTO error_search (error_search, rowid, {_INDEXED}) VALUES ('delete', old.id, {_sqlite_cut('old')}); "
    f"INSERT INTO error_search (rowid, {_INDEXED}) VALUES (new.id, {_sqlite_cut('new')}); END",
    "CREATE TRIGGER error_search_delete AFTER DELETE ON errors BEGIN "
    f"INSERT INTO error_search (error_search, rowid, {_INDEXED}) VALUES ('delete', old.id, {_sqlite_cut('old')}); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER error_search_delete",
    "DROP TRIGGER error_search_update",
    "DROP TRIGGER error_search_insert",
    "DROP TABLE error_search",
]

_PG_CUT = _cut("e", lambda text, size: f"right({text}, {size})")
# No foreign key to errors: Django's flush (and TransactionTestCase) TRUNCATEs `errors` without
# CASCADE, which a referencing table would refuse; the delete and truncate triggers stand in.
POSTGRESQL = [
    "CREATE TABLE error_search (error_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    # Kept in the row, compressed: a search the planner answers by reading every document then
    # does not fetch each from the TOAST table (about half the time of a common word's search).
    "ALTER TABLE error_search ALTER document SET STORAGE MAIN",
    "CREATE INDEX error_search_document_idx ON error_search USING gin (document)",
    # Runs of letters and digits, as errors.search reads a search: PostgreSQL's own parser would
    # keep `/srv/app/payments.py` or `api.example.com` as one word.
    "CREATE FUNCTION error_search_document(e errors) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$ "
    f"SELECT to_tsvector('simple', regexp_replace(concat_ws(' ', {_PG_CUT}), '[^[:alnum:]]+', ' ', 'g')) $$",
    "INSERT INTO error_search (error_id, document) SELECT e.id, error_search_document(e) FROM errors e",
    "CREATE FUNCTION error_search_index() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO error_search (error_id, document) VALUES (NEW.id, error_search_document(NEW)) "
    "ON CONFLICT (error_id) DO UPDATE SET document = excluded.document; RETURN NULL; END $$",
    "CREATE FUNCTION error_search_forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM error_search WHERE error_id = OLD.id; RETURN NULL; END $$",
    "CREATE FUNCTION error_search_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "TRUNCATE error_search; RETURN NULL; END $$",
    "CREATE TRIGGER error_search_insert AFTER INSERT ON errors FOR EACH ROW EXECUTE FUNCTION error_search_index()",
    f"CREATE TRIGGER error_search_update AFTER UPDATE OF {_INDEXED} ON errors FOR EACH ROW "
    f"WHEN ({_CHANGED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION error_search_index()",
    "CREATE TRIGGER error_search_delete AFTER DELETE ON errors FOR EACH ROW EXECUTE FUNCTION error_search_forget()",
    "CREATE TRIGGER error_search_truncate AFTER TRUNCATE ON errors FOR EACH STATEMENT "
    "EXECUTE FUNCTION error_search_forget_all()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER error_search_truncate ON errors",
    "DROP TRIGGER error_search_delete ON errors",
    "DROP TRIGGER error_search_update ON errors",
    "DROP TRIGGER error_search_insert ON errors",
    "DROP FUNCTION error_search_forget_all()",
    "DROP FUNCTION error_search_forget()",
    "DROP FUNCTION error_search_index()",
    "DROP FUNCTION error_search_document(errors)",
    "DROP TABLE error_search",
]


def _run(statements):
    def run(apps, schema_editor):
        for statement in statements[schema_editor.connection.vendor]:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('errors', '0010_triage'),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
        # The default list (muted hidden) in its order: a search checks this index's ids against
        # its matches, and counts them, without reading a group's row.
        migrations.AddIndex(
            model_name='error',
            index=models.Index(fields=['muted', '-last_seen', '-id'], name='errors_muted_idx'),
        ),
        # A search's release: filter, which would otherwise read every group's row.
        migrations.AddIndex(
            model_name='error',
            index=models.Index(fields=['release'], name='errors_release_idx'),
        ),
        # A search's user: filter finds the groups of one user hash.
        migrations.AddIndex(
            model_name='groupuser',
            index=models.Index(fields=['user_hash', 'error'], name='error_users_hash_idx'),
        ),
    ]
