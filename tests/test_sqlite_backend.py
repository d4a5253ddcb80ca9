"""tracker/sqlite_backend: writers of one process queue in Python, not in SQLite's busy handler.

Each run is a separate process on a real SQLite file, with SQLite's busy timeout set to zero:
any writer that reached SQLite while another held its write lock would fail at once with
"database is locked". Eight threads then write concurrently through the real ingest path,
each report in a transaction of the thread's own: the write path's group commit, which would
otherwise queue the threads itself (tests/test_group_commit.py), stays out of a caller's
transaction, as every other writer of the service does.

The threads open their connections one at a time before writing: a connection's first read
of a WAL database can meet another connection initialising the WAL index, which the server
waits out in the busy timeout and which is not what this test is about.
"""

import json
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import REPO, clean_env

WRITERS = """
import json, sys, threading
import django
from django.conf import settings

django.setup()
settings.DATABASES["default"]["ENGINE"] = sys.argv[1]
settings.DATABASES["default"]["OPTIONS"]["timeout"] = 0
own_transactions = sys.argv[2] == "own"
from django.core.management import call_command
from django.db import connection, connections, transaction
from ingest.store import Report, record_error
from projects.auth import project_settings

call_command("migrate", verbosity=0)
project = project_settings("p")
connection.close()
failures = []
opening = threading.Lock()
all_open = threading.Barrier(8)

def write(thread):
    try:
        with opening:
            connection.ensure_connection()
        all_open.wait()
        for n in range(50):
            try:
                report = Report(project="p", exception_type=f"Error{n % 5}", message=f"{thread}-{n}")
                if own_transactions:
                    with transaction.atomic():
                        record_error(report, project)
                else:
                    record_error(report, project)
            except Exception as exc:
                failures.append(str(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT coalesce(sum(count), 0), count(*) FROM errors")
    counted, groups = cursor.fetchone()
print(json.dumps({"failures": failures, "counted": counted, "groups": groups}))
"""


def run_writers(tmp_path, engine, transactions="own"):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tracker.settings", API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), LOG_LEVEL="error"
    )
    result = subprocess.run(
        [sys.executable, "-c", WRITERS, engine, transactions], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_concurrent_writers_of_one_process_never_meet_a_locked_database(tmp_path):
    outcome = run_writers(tmp_path, "tracker.sqlite_backend")

    assert outcome["failures"] == []
    assert outcome["counted"] == 8 * 50
    assert outcome["groups"] == 5


def test_concurrent_reports_written_together_are_each_counted_once(tmp_path):
    """The same eight threads through the group commit (tests/test_group_commit.py)."""
    outcome = run_writers(tmp_path, "tracker.sqlite_backend", transactions="grouped")

    assert outcome["failures"] == []
    assert outcome["counted"] == 8 * 50
    assert outcome["groups"] == 5


def test_without_the_queue_the_same_writers_hit_the_lock(tmp_path):
    """The control: Django's own backend under the same load fails as the test above would notice."""
    outcome = run_writers(tmp_path, "django.db.backends.sqlite3")

    assert any("database is locked" in failure for failure in outcome["failures"])
    assert outcome["counted"] == 8 * 50 - len(outcome["failures"])


@pytest.mark.django_db
def test_remembered_query_conversion_keeps_literal_percent_signs_and_takes_new_parameters():
    if connection.vendor != "sqlite":
        pytest.skip("the conversion is the SQLite backend's")
    with connection.cursor() as cursor:
        for value in ("first", "second"):  # the second execute reuses the remembered conversion
            cursor.execute("SELECT '100%%', %s", [value])
            assert cursor.fetchone() == ("100%", value)
