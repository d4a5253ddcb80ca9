"""What the service logs, and what it never logs, read from the real server's output."""

import time

import pytest
import requests

from tests.conftest import API_KEY, RunningTracker
from tests.factories import report
from tests.postmark import FakePostmark

pytestmark = pytest.mark.server

POSTMARK_TOKEN = "pm-token-do-not-log-7781"
SECRETS = ["Bearer sk-live-abcdef123", "hunter2-password-value", "sess-998877", "card-4111111111111111"]


def exercise(server, postmark):
    session = server.session()
    body = report(
        request_url="/login?session=sess-998877",
        request_headers={"Authorization": "Bearer sk-live-abcdef123"},
        extra={"form": {"password": "hunter2-password-value", "card_number": "card-4111111111111111"}},
    )
    session.post(f"{server.url}/api/errors", json=body, timeout=5)
    session.post(f"{server.url}/api/errors", json=body, timeout=5)
    requests.get(f"{server.url}/api/errors", headers={"X-API-Key": "wrong-" + API_KEY}, timeout=5)
    session.post(f"{server.url}/api/errors", json={"project": ""}, timeout=5)
    deadline = time.monotonic() + 10
    while postmark is not None and not postmark.messages and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def postmark():
    with FakePostmark(POSTMARK_TOKEN) as server:
        yield server


def start(tmp_path, level, postmark):
    return RunningTracker(
        tmp_path,
        {
            "LOG_LEVEL": level,
            "POSTMARK_API_TOKEN": POSTMARK_TOKEN,
            "POSTMARK_FROM_EMAIL": "t@example.com",
            "ALERT_EMAILS": "o@example.com",
            "POSTMARK_API_URL": postmark.url,
        },
    ).start()


def test_info_logs_one_line_per_report_and_per_rejection(tmp_path, postmark):
    server = start(tmp_path, "info", postmark)
    exercise(server, postmark)
    server.stop()
    log = server.log.read_text()

    report_lines = [line for line in log.splitlines() if "errors.ingest report " in line]
    assert len(report_lines) == 2
    assert "project=my-app status=created fingerprint=" in report_lines[0]
    assert "status=existing" in report_lines[1] and " ms=" in report_lines[1]
    assert "rejected 401 GET /api/errors from 127.0.0.1: Invalid API key." in log
    assert "rejected 400 POST /api/errors from 127.0.0.1: invalid project, exception_type" in log
    assert "email alerts on" in log


def test_debug_logs_never_contain_keys_tokens_or_scrubbed_values(tmp_path, postmark):
    server = start(tmp_path, "debug", postmark)
    exercise(server, postmark)
    server.stop()
    log = server.log.read_text()

    assert postmark.messages, "the alert path ran"
    for secret in [API_KEY, POSTMARK_TOKEN, *SECRETS]:
        assert secret not in log


def test_error_level_hides_routine_lines(tmp_path, postmark):
    server = start(tmp_path, "error", postmark)
    exercise(server, postmark)
    server.stop()
    log = server.log.read_text()

    assert "errors.ingest report" not in log
    assert "rejected" not in log
