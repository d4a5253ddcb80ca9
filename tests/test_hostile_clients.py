"""What a hostile client can do to a real `error-tracker` on the open internet: slow sockets,
malformed bodies, forged log lines, guessing passwords. Each answer is a 4xx with a reason, and
everyone else is still served."""

import http.client
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import RunningTracker
from tests.factories import report

pytestmark = pytest.mark.server

HEADER_TIMEOUT = 3
BODY_TIMEOUT = 2


@pytest.fixture
def server(tmp_path):
    running = RunningTracker(
        tmp_path, {"HEADER_TIMEOUT": str(HEADER_TIMEOUT), "BODY_TIMEOUT": str(BODY_TIMEOUT), "THREADS": "8"}
    ).start()
    yield running
    running.stop()


def open_socket(server, source="127.0.0.2"):
    """A connection from another loopback address than the bystanders' 127.0.0.1."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=30, source_address=(source, 0))


def read_answer(sock):
    """Everything the server sends until it closes the connection (or 30 s pass)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return received
        if not chunk:
            return received
        received += chunk


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def json_of(answer):
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def others_are_served(server):
    health, health_seconds = timed(lambda: requests.get(f"{server.url}/health", timeout=5))
    created, report_seconds = timed(
        lambda: server.session().post(f"{server.url}/api/errors", json=report(user_id="bystander"), timeout=5)
    )
    assert health.status_code == 200 and created.status_code in (200, 201)
    return health_seconds, report_seconds


def test_50_slow_header_senders_neither_stall_the_service_nor_stay_connected(server):
    sockets = [open_socket(server) for _ in range(50)]
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    stop = threading.Event()

    def trickle():
        """One byte per second on every socket, as a slowloris client does."""
        for byte in request:
            if stop.is_set():
                return
            for sock in sockets:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    pass
            time.sleep(1)

    sender = threading.Thread(target=trickle, daemon=True)
    opened = time.monotonic()
    sender.start()
    time.sleep(1.5)
    try:
        health_seconds, report_seconds = others_are_served(server)
        closed_after = []
        with ThreadPoolExecutor(50) as pool:
            for answer in pool.map(read_answer, sockets):
                closed_after.append(time.monotonic() - opened)
                assert status_of(answer) in (None, 408), answer[:80]
    finally:
        stop.set()
        for sock in sockets:
            sock.close()

    assert health_seconds < 1 and report_seconds < 1
    assert max(closed_after) < HEADER_TIMEOUT + 3


def test_clients_that_stop_sending_their_body_get_408_and_do_not_stall_the_service(server):
    sockets = []
    for n in range(40):  # five times the server's 8 request threads
        sock = open_socket(server)
        if n % 2:
            head = "POST /api/errors HTTP/1.1\r\nHost: x\r\nX-API-Key: test-api-key\r\nContent-Length: 500\r\n\r\n"
            sock.sendall(head.encode() + b'{"project": "my-')
        else:
            head = "POST /api/errors HTTP/1.1\r\nHost: x\r\nX-API-Key: test-api-key\r\nTransfer-Encoding: chunked\r\n\r\n"
            sock.sendall(head.encode() + b"400\r\n{\"project\"")
        sockets.append(sock)
    time.sleep(0.3)
    try:
        health_seconds, report_seconds = others_are_served(server)
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(_first_response, sockets))
            closed = list(pool.map(read_answer, sockets))
    finally:
        for sock in sockets:
            sock.close()

    assert health_seconds < 1 and report_seconds < 1
    statuses = [status for status, _, _ in answers]
    assert statuses.count(408) == 16 and statuses.count(429) == 24  # 16 unfinished bodies per client
    bodies = {status: json.loads(body) for status, body, _ in answers}
    assert bodies[408] == {"detail": f"Request body not received within {BODY_TIMEOUT} seconds."}
    assert bodies[429] == {"detail": "Too many unfinished requests from this IP (at most 16 at once)."}
    assert all(headers["connection"] == "close" for _, _, headers in answers)
    assert closed == [b""] * 40  # and the server closed each connection


def test_a_body_cut_short_of_its_content_length_is_refused(server):
    body = json.dumps(report()).encode()
    sock = open_socket(server)
    head = f"POST /api/errors HTTP/1.1\r\nHost: x\r\nX-API-Key: test-api-key\r\nContent-Type: application/json\r\nContent-Length: {len(body) + 50}\r\n\r\n"
    sock.sendall(head.encode() + body)
    sock.shutdown(socket.SHUT_WR)  # the client stops there
    status, answer, _ = _first_response(sock)
    sock.close()

    assert status in (400, None) or status < 500
    if status == 400:
        assert json.loads(answer) == {"detail": "Request body ended before its Content-Length."}
    assert server.session().get(f"{server.url}/api/errors").json()["total"] == 0


def _first_response(sock):
    """The first response on a socket whose request never ends, as (status, body, headers)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read(), {name.lower(): value for name, value in response.getheaders()}


MALFORMED_CHUNKED = {
    "invalid chunk size": b"zz\r\nabc\r\n0\r\n\r\n",
    "bad chunk extension": b"3;\x01\x02\r\nabc\r\n0\r\n\r\n",
    "chunk longer than its size": b"3\r\nabcdef\r\n0\r\n\r\n",
    "size past any integer": b"ffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("path", ["/health", "/api/errors"])
@pytest.mark.parametrize("name", MALFORMED_CHUNKED)
def test_malformed_chunked_bodies_are_answered_without_a_500(server, path, name):
    sock = open_socket(server)
    method = "GET" if path == "/health" else "POST"
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nX-API-Key: test-api-key\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    sock.sendall(head.encode() + MALFORMED_CHUNKED[name])
    answer = read_answer(sock)
    sock.close()

    status = status_of(answer)
    if status is not None:  # or the server simply closed the connection on the broken framing
        assert status < 500, answer[:200]
        if path == "/api/errors":
            assert 400 <= status < 500 and json_of(answer)["detail"]
    assert server.session().get(f"{server.url}/api/errors").json()["total"] == 0
    others_are_served(server)


def test_control_characters_a_client_sends_cannot_forge_log_lines(server):
    forged = "2026-01-01 00:00:00,000 INFO errors.ingest report project=admin status=created"
    # Project names hold no ':', so the forged line a project name can carry has no timestamp.
    forged_in_name = forged.split(" ", 2)[2]
    server.session().post(f"{server.url}/api/errors", json=report(project=f"shop\n{forged_in_name}\x1b[2J"))
    too_big = b"x" * (256 * 1024 + 1)  # refused before any key is asked for
    requests.post(f"{server.url}/api/errors%0a{forged.replace(' ', '%20')}", data=too_big, timeout=5)

    lines = server.log.read_text().splitlines()
    assert not any(line.startswith((forged, forged_in_name)) for line in lines)
    assert not any("\x1b" in line for line in lines)
    assert any("project=shop\\nINFO errors.ingest" in line and "\\x1b[2J" in line for line in lines)
    assert any("rejected 413" in line and "/api/errors\\n2026-01-01" in line for line in lines)


def test_refusals_carry_the_rate_limit_headers(tmp_path):
    server = RunningTracker(tmp_path, {"RATE_LIMIT": "2/m"}).start()
    try:
        session = server.session()
        too_big = session.post(
            f"{server.url}/api/errors", data=b"x" * (256 * 1024 + 1), headers={"Content-Type": "application/json"}
        )
        session.post(f"{server.url}/api/errors", json=report())
        limited = session.post(f"{server.url}/api/errors", json=report())
    finally:
        server.stop()

    assert too_big.status_code == 413 and limited.status_code == 429
    for answer, remaining in ((too_big, "1"), (limited, "0")):
        assert answer.headers["X-RateLimit-Limit"] == "2"
        assert answer.headers["X-RateLimit-Remaining"] == remaining
        assert int(answer.headers["X-RateLimit-Reset"]) <= 60
    assert int(limited.headers["Retry-After"]) >= 1


def test_concurrent_password_guesses_are_counted_before_they_are_checked(tmp_path):
    server = RunningTracker(tmp_path, {"ADMIN_USERNAME": "boss", "ADMIN_PASSWORD": "the-right-one"}).start()
    login = f"{server.url}/admin/login/"

    def guess(n):
        session = requests.Session()
        page = session.get(login, timeout=10).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = session.post(
            login, data={"csrfmiddlewaretoken": token, "username": "boss", "password": f"guess-{n}"},
            headers={"Referer": login}, timeout=30,
        )
        return answer.status_code

    try:
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(guess, range(30)))
    finally:
        server.stop()

    assert statuses.count(200) == 10  # the form came back: checked, and wrong
    assert statuses.count(429) == 20
