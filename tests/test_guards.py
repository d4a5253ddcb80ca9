"""Rate limit, client IP and body cap, through the real server process where a proxy or a
socket matters, and through the Django stack otherwise."""

import http.client
import json
import sqlite3
import subprocess
import time

import pytest
import requests

from tests.conftest import ERROR_TRACKER, REPO, RunningTracker, clean_env
from tests.factories import report

pytestmark = pytest.mark.server


def fresh_window(session, url):
    """Wait, if needed, until a new rate-limit window starts; returns that window's first answer."""
    first = session.get(url, timeout=5)
    if int(first.headers["X-RateLimit-Reset"]) < 10:
        time.sleep(int(first.headers["X-RateLimit-Reset"]) + 1)
        first = session.get(url, timeout=5)
    return first


@pytest.fixture
def limited_server(tmp_path):
    server = RunningTracker(tmp_path, {"RATE_LIMIT": "100/m"}).start()
    yield server
    server.stop()


def test_150_requests_in_a_minute_give_exactly_100_accepted(limited_server):
    session = limited_server.session()
    url = f"{limited_server.url}/api/errors"
    first = fresh_window(session, url)
    statuses = [first.status_code]
    responses = [session.post(url, json=report(), timeout=5) for _ in range(149)]
    statuses += [r.status_code for r in responses]

    assert statuses.count(429) == 50
    assert len(statuses) - statuses.count(429) == 100
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["detail"].startswith("Rate limit exceeded")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    with sqlite3.connect(limited_server.database) as db:
        assert db.execute("SELECT sum(count) FROM errors").fetchone() == (99,)


def test_health_is_not_rate_limited(limited_server):
    statuses = {requests.get(f"{limited_server.url}/health", timeout=5).status_code for _ in range(120)}

    assert statuses == {200}


def test_forwarded_for_is_ignored_without_trusted_proxies(limited_server):
    session = limited_server.session()
    url = f"{limited_server.url}/api/projects"
    fresh_window(session, url)
    statuses = [
        session.get(url, headers={"X-Forwarded-For": f"203.0.113.{n % 250}"}, timeout=5).status_code
        for n in range(110)
    ]

    assert statuses.count(429) == 11


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path):
    server = RunningTracker(tmp_path, {"RATE_LIMIT": "5/m", "TRUSTED_PROXIES": "127.0.0.1/32"}).start()
    try:
        session = server.session()
        url = f"{server.url}/api/projects"
        fresh_window(session, url)
        one_client = [session.get(url, headers={"X-Forwarded-For": "198.51.100.7"}, timeout=5).status_code for _ in range(6)]
        other_client = session.get(url, headers={"X-Forwarded-For": "198.51.100.8, 127.0.0.1"}, timeout=5)
    finally:
        server.stop()

    assert one_client == [200] * 5 + [429]
    assert other_client.status_code == 200


def test_several_workers_without_a_shared_cache_refuse_to_start(tmp_path):
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), WORKERS="2")

    result = subprocess.run([str(ERROR_TRACKER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "errors.E001" in result.stderr and "CACHE_URL" in result.stderr


def raw_post(server, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", "/api/errors")
    for name, value in {"X-API-Key": "test-api-key", "Content-Type": "application/json", **headers}.items():
        connection.putheader(name, value)
    connection.endheaders()
    try:
        if headers.get("Transfer-Encoding") == "chunked":
            for start in range(0, len(body), 16384):
                piece = body[start : start + 16384]
                connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.send(body)
    except BrokenPipeError:
        pass  # the server answered a body past the cap and closed before the rest was sent
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def big_report(size):
    body = json.dumps(report(message="")).encode()
    padding = size - len(body)
    return json.dumps(report(message="x" * padding)).encode()


def test_body_over_256_kib_is_413_by_content_length(tracker_server):
    body = big_report(256 * 1024 + 1)

    status, answer = raw_post(tracker_server, body, {"Content-Length": str(len(body))})

    assert status == 413
    assert answer == {"detail": "Request body exceeds 262144 bytes."}
    assert tracker_server.session().get(f"{tracker_server.url}/api/errors").json()["total"] == 0


def test_body_of_exactly_256_kib_is_accepted(tracker_server):
    body = big_report(256 * 1024)
    assert len(body) == 256 * 1024

    status, answer = raw_post(tracker_server, body, {"Content-Length": str(len(body))})

    assert status == 201


def test_chunked_body_over_the_cap_is_413(tracker_server):
    status, answer = raw_post(tracker_server, big_report(300 * 1024), {"Transfer-Encoding": "chunked"})

    assert status == 413
    assert tracker_server.session().get(f"{tracker_server.url}/api/errors").json()["total"] == 0


def test_chunked_body_under_the_cap_is_read(tracker_server):
    status, answer = raw_post(tracker_server, big_report(10 * 1024), {"Transfer-Encoding": "chunked"})

    assert status == 201
    assert answer["status"] == "created"

