"""The real `error-tracker` process: start-up, a round trip, concurrency on a real SQLite file, SIGTERM."""

import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import ERROR_TRACKER, REPO, RunningTracker, clean_env
from tests.factories import python_traceback, report

pytestmark = pytest.mark.server


def test_it_serves_a_report_round_trip_and_stops_cleanly_on_sigterm(tmp_path):
    server = RunningTracker(tmp_path).start()
    session = server.session()

    assert session.get(f"{server.url}/health").json() == {"status": "ok"}
    created = session.post(f"{server.url}/api/errors", json=report())
    assert created.status_code == 201
    detail = session.get(f"{server.url}/api/errors/{created.json()['id']}").json()
    assert detail["error"]["exception_type"] == "ValueError"
    assert detail["occurrences"][0]["extra"] == {"request_id": "abc123"}

    assert server.stop() == 0
    assert server.database.exists()
    with sqlite3.connect(server.database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count FROM errors").fetchall() == [(1,)]


def test_data_survives_a_restart(tmp_path):
    server = RunningTracker(tmp_path).start()
    server.session().post(f"{server.url}/api/errors", json=report())
    server.stop()

    server = RunningTracker(tmp_path).start()
    try:
        response = server.session().post(f"{server.url}/api/errors", json=report())
        assert response.json()["count"] == 2
    finally:
        server.stop()


def test_it_refuses_to_start_without_api_key(tmp_path):
    env = clean_env(DATABASE_PATH=str(tmp_path / "errors.db"))

    result = subprocess.run([str(ERROR_TRACKER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error-tracker: API_KEY is required: set the API_KEY environment variable"
    ]


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("RETENTION_DAYS", "ninety", ""),
        ("RETENTION_DAYS", "-5", "-5 is below the minimum of 1"),
        ("WORKERS", "0", "0 is below the minimum of 1"),
        ("ALERT_MAX_PER_HOUR", "-1", "-1 is below the minimum of 1"),
        ("PORT", "70000", "70000 is above the maximum of 65535"),
        ("HEADER_TIMEOUT", "soon", "'soon' is not a finite number"),
        ("CACHE_URL", "dummycache://", "the rate limit needs locmemcache:// (one process) or redis://"),
    ],
)
def test_it_refuses_a_malformed_setting_by_name(tmp_path, name, value, reason):
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), **{name: value})

    result = subprocess.run([str(ERROR_TRACKER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)

    assert result.returncode != 0
    assert f"{name} is malformed: {reason}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "name, instead",
    [
        ("INGEST_API_KEYS", "`error-tracker createproject NAME`"),
        ("SENTRY_PROJECTS", "`error-tracker createproject NAME` prints the DSN"),
        ("CORS_ALLOWED_ORIGINS", "`error-tracker createproject NAME --origin ORIGIN`"),
    ],
)
def test_variables_replaced_by_project_keys_stop_start_up_saying_what_to_run(tmp_path, name, instead):
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), **{name: "anything"})

    result = subprocess.run([str(ERROR_TRACKER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error-tracker: {name} is no longer read: ") and instead in line


def test_a_shared_database_without_a_shared_secret_key_refuses_to_start(tmp_path):
    env = clean_env(API_KEY="k", DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")

    result = subprocess.run([str(ERROR_TRACKER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error-tracker: SECRET_KEY is required with DATABASE_URL: every instance must sign sessions with the same key"
    ]


def test_management_commands_pass_through(tmp_path):
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"))

    result = subprocess.run(
        [str(ERROR_TRACKER), "showmigrations", "errors"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "0001_initial" in result.stdout


def test_secret_key_is_generated_once_and_kept(tmp_path):
    server = RunningTracker(tmp_path).start()
    server.stop()
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()

    RunningTracker(tmp_path).start().stop()

    assert len(first) >= 50
    assert key_file.read_text() == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.load
def test_concurrent_reports_of_one_new_fingerprint_make_one_group(tracker_server):
    clients, reports_each = 8, 50

    def client(n):
        session = tracker_server.session()
        return [
            session.post(f"{tracker_server.url}/api/errors", json=report(user_id=f"c{n}-{i}"), timeout=30).status_code
            for i in range(reports_each)
        ]

    with ThreadPoolExecutor(clients) as pool:
        statuses = [code for codes in pool.map(client, range(clients)) for code in codes]

    assert statuses.count(201) == 1
    assert statuses.count(200) == clients * reports_each - 1
    with sqlite3.connect(tracker_server.database) as db:
        assert db.execute("SELECT count(*), sum(count) FROM errors").fetchone() == (1, clients * reports_each)
        assert db.execute("SELECT count(*) FROM error_occurrences").fetchone() == (5,)


@pytest.mark.load
def test_sigterm_lets_in_flight_requests_finish(tmp_path):
    server = RunningTracker(tmp_path).start()
    accepted, stop = [], threading.Event()

    def keep_sending(n):
        session = server.session()
        i = 0
        while not stop.is_set():
            i += 1
            body = report(traceback=python_traceback(line=n), user_id=f"{n}-{i}")
            try:
                response = session.post(f"{server.url}/api/errors", json=body, timeout=10)
            except requests.ConnectionError:
                return
            if response.status_code in (200, 201):
                accepted.append(n)

    threads = [threading.Thread(target=keep_sending, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(accepted) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    exit_code = server.stop()
    stop.set()
    for thread in threads:
        thread.join(30)

    assert exit_code == 0
    with sqlite3.connect(server.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT sum(count) FROM errors").fetchone() == (len(accepted),)


def test_admin_user_from_environment_is_created_once_and_never_overwritten(tmp_path):
    first = RunningTracker(tmp_path, {"ADMIN_USERNAME": "boss", "ADMIN_PASSWORD": "first-password"}).start()
    first.stop()
    with sqlite3.connect(first.database) as db:
        created = db.execute("SELECT password, is_superuser FROM auth_user WHERE username = 'boss'").fetchone()

    second = RunningTracker(tmp_path, {"ADMIN_USERNAME": "boss", "ADMIN_PASSWORD": "another-password"}).start()
    second.stop()
    with sqlite3.connect(second.database) as db:
        after = db.execute("SELECT password, is_superuser FROM auth_user WHERE username = 'boss'").fetchone()

    assert created[1] == 1
    assert after == created
    assert "admin user 'boss' exists; ADMIN_PASSWORD not applied" in second.log.read_text()
