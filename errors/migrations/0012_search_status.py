"""A group's status in its search entry, so the list's `total` for a search is counted in the
search index alone (errors.search.count_in_index) instead of checking every match against
`errors`: an FTS5 column `state` on SQLite, an `is_<status>` lexeme on PostgreSQL (no searched
word can hold `_`). The triggers now re-index a group when its status changes, too.

The statements of migration 0011 are reused, with the status added; its notes on the cut of
long texts and on SQLite dropping triggers with their table hold here as well.
"""

import importlib

from django.db import migrations

search_0011 = importlib.import_module("errors.migrations.0011_search")

_TEXT = search_0011._INDEXED
_WATCHED = f"{_TEXT}, resolved, muted"
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _WATCHED.split(", "))


def _state(row):
    return f"CASE WHEN {row}.muted THEN 'muted' WHEN {row}.resolved THEN 'resolved' ELSE 'unresolved' END"


def _sqlite_values(row):
    return f"{search_0011._sqlite_cut(row)}, {_state(row)}"


SQLITE = [
    *search_0011.SQLITE_REVERSE,
    "CREATE VIRTUAL TABLE error_search USING fts5("
    f"{_TEXT}, state, content='', columnsize=0, tokenize='unicode61')",
    f"INSERT INTO error_search (rowid, {_TEXT}, state) SELECT id, {_sqlite_values('errors')} FROM errors",
    "CREATE TRIGGER error_search_insert AFTER INSERT ON errors BEGIN "
    f"INSERT INTO error_search (rowid, {_TEXT}, state) VALUES (new.id, {_sqlite_values('new')}); END",
    f"CREATE TRIGGER error_search_update AFTER UPDATE OF {_WATCHED} ON errors WHEN {_CHANGED} BEGIN "
    f"INSERT INTO error_search (error_search, rowid, {_TEXT}, state) VALUES ('delete', old.id, {_sqlite_values('old')}); "
    f"INSERT INTO error_search (rowid, {_TEXT}, state) VALUES (new.id, {_sqlite_values('new')}); END",
    "CREATE TRIGGER error_search_delete AFTER DELETE ON errors BEGIN "
    f"INSERT INTO error_search (error_search, rowid, {_TEXT}, state) VALUES ('delete', old.id, {_sqlite_values('old')}); END",
]
SQLITE_REVERSE = [*search_0011.SQLITE_REVERSE, *search_0011.SQLITE]

_PG_TEXT_DOCUMENT = (
    "to_tsvector('simple', regexp_replace(concat_ws(' ', "
    f"{search_0011._PG_CUT}), '[^[:alnum:]]+', ' ', 'g'))"
)
_PG_STATE = "('is_' || CASE WHEN e.muted THEN 'muted' WHEN e.resolved THEN 'resolved' ELSE 'unresolved' END)::tsvector"
_PG_UPDATE_TRIGGER = (
    "CREATE TRIGGER error_search_update AFTER UPDATE OF {columns} ON errors FOR EACH ROW "
    "WHEN ({changed}) EXECUTE FUNCTION error_search_index()"
)


def _pg_document(document):
    return [
        "CREATE OR REPLACE FUNCTION error_search_document(e errors) RETURNS tsvector LANGUAGE sql IMMUTABLE AS "
        f"$$ SELECT {document} $$",
        "UPDATE error_search s SET document = error_search_document(e) FROM errors e WHERE e.id = s.error_id",
    ]


def _pg_update_trigger(columns):
    changed = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns.split(", "))
    return ["DROP TRIGGER error_search_update ON errors", _PG_UPDATE_TRIGGER.format(columns=columns, changed=changed)]


POSTGRESQL = [*_pg_document(f"{_PG_TEXT_DOCUMENT} || {_PG_STATE}"), *_pg_update_trigger(_WATCHED)]
POSTGRESQL_REVERSE = [*_pg_update_trigger(_TEXT), *_pg_document(_PG_TEXT_DOCUMENT)]


class Migration(migrations.Migration):

    dependencies = [
        ('errors', '0011_search'),
    ]

    operations = [
        migrations.RunPython(
            search_0011._run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            search_0011._run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
