"""Several instances on one PostgreSQL and one Redis; faults survived. Real servers throughout."""

import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import RunningTracker
from tests.factories import python_traceback, report
from tests.test_guards import fresh_window

pytestmark = [pytest.mark.server, pytest.mark.scaleout]


def instance(tmp_path, name, postgres_url, redis_url, **env):
    data = Path(tmp_path) / name
    data.mkdir()
    settings = {
        "DATABASE_URL": postgres_url,
        "CACHE_URL": redis_url,
        "SECRET_KEY": "shared-secret-key-for-all-instances",
        **env,
    }
    return RunningTracker(data, settings)


def start_instance(tmp_path, name, postgres_url, redis_url, **env):
    return instance(tmp_path, name, postgres_url, redis_url, **env).start()


def stored(postgres_url):
    with psycopg.connect(postgres_url) as db:
        return dict(db.execute("SELECT fingerprint, count FROM errors").fetchall())


@pytest.fixture
def two_instances(tmp_path, postgres_url, redis_url):
    first = start_instance(tmp_path, "a", postgres_url, redis_url)
    second = start_instance(tmp_path, "b", postgres_url, redis_url)
    yield first, second
    for instance in (first, second):
        if instance.process.poll() is None:
            instance.stop()


def test_instances_started_together_on_an_empty_database_migrate_it_once(tmp_path, postgres_url, redis_url):
    trackers = [instance(tmp_path, name, postgres_url, redis_url) for name in "abcd"]
    try:
        with ThreadPoolExecutor(len(trackers)) as pool:
            list(pool.map(lambda tracker: tracker.start(timeout=60), trackers))
        for tracker in trackers:
            assert tracker.session().get(f"{tracker.url}/api/projects", timeout=5).status_code == 200
    finally:
        for tracker in trackers:
            if tracker.process is not None and tracker.process.poll() is None:
                tracker.stop()

    with psycopg.connect(postgres_url) as db:
        applied = db.execute("SELECT app, name FROM django_migrations").fetchall()
    assert len(applied) == len(set(applied))
    assert ("errors", "0001_initial") in applied


def test_reports_spread_over_two_instances_are_counted_exactly_once(two_instances, postgres_url):
    instances = two_instances
    clients, reports_each, groups = 8, 40, 10

    def client(n):
        session = instances[0].session()
        results = []
        for i in range(reports_each):
            target = instances[(n + i) % 2]
            group = (n * reports_each + i) % groups
            response = session.post(
                f"{target.url}/api/errors", json=report(traceback=python_traceback(line=group)), timeout=30
            )
            results.append((group, response.status_code, response.json().get("fingerprint")))
        return results

    with ThreadPoolExecutor(clients) as pool:
        results = [r for batch in pool.map(client, range(clients)) for r in batch]

    statuses = Counter(status for _, status, _ in results)
    assert statuses == {201: groups, 200: clients * reports_each - groups}
    sent_per_fingerprint = Counter(fingerprint for _, _, fingerprint in results)
    assert stored(postgres_url) == dict(sent_per_fingerprint)


def test_rate_limit_is_global_across_instances(tmp_path, postgres_url, redis_url):
    first = start_instance(tmp_path, "a", postgres_url, redis_url, RATE_LIMIT="100/m")
    second = start_instance(tmp_path, "b", postgres_url, redis_url, RATE_LIMIT="100/m")
    try:
        session = first.session()
        statuses = [fresh_window(session, f"{first.url}/api/projects").status_code]
        for n in range(149):
            target = (first, second)[n % 2]
            statuses.append(session.get(f"{target.url}/api/projects", timeout=5).status_code)
    finally:
        first.stop()
        second.stop()

    assert statuses.count(200) == 100
    assert statuses.count(429) == 50


def test_kill_9_of_one_instance_loses_no_acknowledged_report(two_instances, postgres_url):
    first, second = two_instances
    acknowledged, failed_on_first, stop = Counter(), Counter(), threading.Event()

    def keep_sending(n):
        session = first.session()
        i = 0
        while not stop.is_set():
            i += 1
            target = (first, second)[i % 2]
            try:
                response = session.post(
                    f"{target.url}/api/errors", json=report(traceback=python_traceback(line=n)), timeout=10
                )
            except requests.RequestException:
                failed_on_first[target.port] += 1
                continue
            if response.status_code in (200, 201):
                acknowledged[response.json()["fingerprint"]] += 1

    threads = [threading.Thread(target=keep_sending, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    first.kill()
    time.sleep(2)
    second_still_serves = second.session().post(f"{second.url}/api/errors", json=report(), timeout=10).status_code
    stop.set()
    for thread in threads:
        thread.join(30)

    assert second_still_serves in (200, 201)
    counts = stored(postgres_url)
    in_flight_at_kill = failed_on_first[first.port]
    for fingerprint, acked in acknowledged.items():
        # Every acknowledged report is stored; a report whose commit raced the kill may be
        # stored without its answer reaching the client, never the other way round.
        assert acked <= counts[fingerprint] <= acked + in_flight_at_kill + 1
    assert sum(acknowledged.values()) > 100


def pg_cluster(action):
    version = sorted(Path("/etc/postgresql").iterdir())[0].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True, capture_output=True, timeout=60,
    )


def test_postgres_restart_answers_503_then_recovers_without_restart(tmp_path, postgres_url, redis_url):
    server = start_instance(tmp_path, "a", postgres_url, redis_url)
    outcomes, stop = [], threading.Event()

    def keep_sending():
        session = server.session()
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = session.post(f"{server.url}/api/errors", json=report(), timeout=15)
            except requests.RequestException as exc:
                outcomes.append(("exception", repr(exc), time.monotonic() - started))
                continue
            outcomes.append((response.status_code, response.json(), time.monotonic() - started))
            time.sleep(0.01)

    threads = [threading.Thread(target=keep_sending) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1)
        pg_cluster("stop")
        try:
            time.sleep(1)
            health = requests.get(f"{server.url}/health", timeout=10)
            time.sleep(2)
        finally:
            pg_cluster("start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if requests.get(f"{server.url}/health", timeout=10).status_code == 200:
                break
            time.sleep(0.5)
        time.sleep(1)
        recovered = server.session().post(f"{server.url}/api/errors", json=report(), timeout=10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.stop()

    assert health.status_code == 503
    assert health.json() == {"detail": "Database unavailable, try again shortly."}
    assert recovered.status_code == 200
    statuses = Counter(outcome[0] for outcome in outcomes)
    assert set(statuses) <= {200, 201, 503}, statuses
    assert statuses[503] > 0
    assert max(seconds for _, _, seconds in outcomes) < 15
    refused = [body for status, body, _ in outcomes if status == 503]
    assert all(body == {"detail": "Database unavailable, try again shortly."} for body in refused)
    acknowledged = statuses[200] + statuses[201] + 1
    total = sum(stored(postgres_url).values())
    assert acknowledged <= total <= acknowledged + statuses[503]


def test_a_projects_quota_holds_exactly_across_two_instances(two_instances, postgres_url):
    first, second = two_instances
    dsn = first.createproject("shop")
    key = dsn.split("//", 1)[1].split("@", 1)[0]
    with psycopg.connect(postgres_url) as db:
        db.execute("UPDATE projects SET events_per_minute = 30 WHERE name = 'shop'")
    fresh_window(first.session(), f"{first.url}/api/projects")  # the quota's minute has just begun

    def send(n):
        target = (first, second)[n % 2]
        return requests.post(
            f"{target.url}/api/errors", json={**report(project="shop"), "user_id": f"u{n}"},
            headers={"X-API-Key": key}, timeout=10,
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(50)))

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[429] == 20 and statuses[200] + statuses[201] == 30
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["X-Sentry-Rate-Limits"] == f"{refused.headers['Retry-After']}::project"
    assert sum(stored(postgres_url).values()) == 30
