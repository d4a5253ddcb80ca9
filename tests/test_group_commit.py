"""ingest/groupcommit: reports that wait for SQLite's write lock are committed together, and a
bad one fails alone.

Each run is a separate process on a real SQLite file. The first writer is held inside its
transaction until three more threads are waiting behind it, so what the second transaction
carries is known.
"""

import json
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from ingest.groupcommit import GroupCommit
from tests.conftest import REPO, clean_env

WAITING_WRITERS = """
import json, sys, threading, time
import django

django.setup()
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from ingest.groupcommit import GroupCommit

call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE written (name TEXT)")
connection.close()
failing = sys.argv[1]
group_commit = GroupCommit()
release_first = threading.Event()
calls, outcomes = [], {}

def write(name):
    calls.append((name, threading.get_ident()))
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO written (name) VALUES (%s)", [name])
    if name == "first":
        release_first.wait(10)
    if name == "bad" and failing == "hook":
        transaction.on_commit(lambda: 1 / 0)
    elif name == "bad":
        raise OperationalError("database is locked") if failing == "database" else ValueError("bad report")
    return name.upper()

def report(name):
    try:
        outcomes[name] = group_commit.run(lambda: write(name))
    except Exception as exc:
        outcomes[name] = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()

first = threading.Thread(target=report, args=("first",))
first.start()
while not calls:
    time.sleep(0.01)
others = [threading.Thread(target=report, args=(name,)) for name in ("one", "two", "bad")]
for thread in others:
    thread.start()
    while len(group_commit._waiting) < others.index(thread) + 1:
        time.sleep(0.01)
release_first.set()
for thread in [first, *others]:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM written ORDER BY name")
    stored = [row[0] for row in cursor.fetchall()]
print(json.dumps({"calls": [[name, ident] for name, ident in calls], "outcomes": outcomes, "stored": stored}))
"""


def run_writers(tmp_path, failing):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tracker.settings", API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), LOG_LEVEL="error"
    )
    result = subprocess.run(
        [sys.executable, "-c", WAITING_WRITERS, failing], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_reports_waiting_for_the_writer_are_written_in_one_transaction_and_a_bad_one_fails_alone(tmp_path):
    outcome = run_writers(tmp_path, "report")

    first, *rest = outcome["calls"]
    waiting_batch = rest[:3]
    assert first[0] == "first"
    assert [name for name, _ in waiting_batch] == ["one", "two", "bad"]
    assert len({ident for _, ident in waiting_batch}) == 1, "the three waiting reports ran in one thread"
    # The shared transaction failed on "bad": each was written again alone, "bad" failing again.
    assert [name for name, _ in rest[3:]] == ["one", "two", "bad"]
    assert outcome["outcomes"] == {"first": "FIRST", "one": "ONE", "two": "TWO", "bad": "ValueError: bad report"}
    assert outcome["stored"] == ["first", "one", "two"]


def test_a_locked_database_fails_the_whole_batch_at_once_without_retrying_it(tmp_path):
    outcome = run_writers(tmp_path, "database")

    assert [name for name, _ in outcome["calls"]] == ["first", "one", "two", "bad"]
    assert outcome["outcomes"] == {
        "first": "FIRST",
        "one": "OperationalError: database is locked",
        "bad": "OperationalError: database is locked",
        "two": "OperationalError: database is locked",
    }
    assert outcome["stored"] == ["first"]


def test_a_hook_failing_after_the_commit_does_not_write_the_batch_again(tmp_path):
    outcome = run_writers(tmp_path, "hook")

    assert [name for name, _ in outcome["calls"]] == ["first", "one", "two", "bad"]
    assert outcome["outcomes"] == {"first": "FIRST", "one": "ONE", "two": "TWO", "bad": "BAD"}
    assert outcome["stored"] == ["bad", "first", "one", "two"]


@pytest.mark.django_db(transaction=True)
def test_a_report_whose_commit_hook_fails_is_answered_as_stored_on_either_engine():
    def write():
        user = User.objects.create(username="stored-once")
        transaction.on_commit(lambda: 1 / 0)
        return user.pk

    pk = GroupCommit().run(write)

    assert list(User.objects.values_list("pk", flat=True)) == [pk]
