"""A storm of reports against a real `error-tracker`: past MAX_QUEUED_REPORTS waiting for a
thread, reports are answered 429 with Retry-After at once; every report answered 2xx is stored;
/health and the admin are never refused for it."""

import json
import socket
import sqlite3

import pytest

from tests.conftest import API_KEY, RunningTracker
from tests.factories import report

pytestmark = pytest.mark.server


def raw_post(path, body):
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: {API_KEY}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


def raw_get(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def all_at_once(server, requests):
    """Connect once per request, send them all before reading any answer, then read each whole."""
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in requests]
    for sock, request in zip(sockets, requests):
        sock.sendall(request)
    answers = []
    for sock in sockets:
        with sock:
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        answers.append((int(lines[0].split(" ")[1]), headers, body))
    return answers


def stored(server):
    with sqlite3.connect(server.database) as db:
        return db.execute("SELECT coalesce(sum(count), 0) FROM errors").fetchone()[0]


@pytest.fixture
def one_thread_server(tmp_path):
    running = RunningTracker(tmp_path, {"THREADS": "1", "MAX_QUEUED_REPORTS": "2"}).start()
    yield running
    running.stop()


def test_reports_past_the_queue_are_refused_at_once_and_every_accepted_one_is_stored(one_thread_server):
    reports = [raw_post("/api/errors", report(user_id=f"user-{n}", message=f"storm {n % 7}")) for n in range(60)]
    bystanders = [raw_get("/health"), raw_get("/admin/login/")]
    answers = all_at_once(one_thread_server, reports[:30] + bystanders + reports[30:])

    report_answers = answers[:30] + answers[32:]
    refused = [(headers, body) for status, headers, body in report_answers if status == 429]
    accepted = [status for status, _headers, _body in report_answers if status in (200, 201)]
    assert len(refused) + len(accepted) == 60
    assert refused and accepted
    for headers, body in refused:
        assert headers["retry-after"] == "1"
        assert json.loads(body)["detail"].startswith("The server is overloaded")
    assert stored(one_thread_server) == len(accepted)
    assert [status for status, _headers, _body in answers[30:32]] == [200, 200]


def test_a_burst_within_the_queue_is_served_whole(tracker_server):
    answers = all_at_once(tracker_server, [raw_post("/api/errors", report(user_id=f"u{n}")) for n in range(24)])

    assert {status for status, _headers, _body in answers} <= {200, 201}
    assert stored(tracker_server) == 24


def test_a_browser_can_read_the_refusal(one_thread_server):
    origin = b"Origin: https://shop.example.com\r\n"
    requests = [raw_post("/api/errors", report()).replace(b"Connection:", origin + b"Connection:") for _ in range(40)]
    refused = [headers for status, headers, _body in all_at_once(one_thread_server, requests) if status == 429]

    assert refused
    assert {(h["access-control-allow-origin"], h["access-control-expose-headers"]) for h in refused} == {("*", "retry-after")}
