"""Email alerts through the real postmarker client and a local server speaking Postmark's API."""

import socket
import time
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from django.db import models
from django.test import override_settings
from django.utils import timezone

from notifications.alerts import describe_alert_configuration, send_due_alerts
from errors.models import Alert
from tests.conftest import RunningTracker
from tests.factories import python_traceback, report
from tests.postmark import FakePostmark

TOKEN = "postmark-server-token-123"


@pytest.fixture
def postmark():
    with FakePostmark(TOKEN) as server:
        yield server


@pytest.fixture
def alerting(postmark, settings):
    settings.POSTMARK_API_TOKEN = TOKEN
    settings.POSTMARK_FROM_EMAIL = "tracker@example.com"
    settings.ALERT_EMAILS = ["oncall@example.com", "lead@example.com"]
    settings.POSTMARK_API_URL = postmark.url
    settings.ALERT_RETRY_DELAY = 60
    settings.PUBLIC_URL = "https://errors.example.com"
    return postmark


def send(api, **fields):
    return api.post("/api/errors", report(**fields), format="json")


def alert_statuses():
    return list(Alert.objects.order_by("id").values_list("kind", "status"))


def test_new_group_sends_one_email_with_the_details(api, alerting):
    error_id = send(api, message="invalid input\nsecond line").json()["id"]
    send(api)

    assert send_due_alerts() == 1

    assert len(alerting.messages) == 1
    email = alerting.messages[0]
    assert email["Subject"] == "[my-app/prod] ValueError: invalid input"
    assert email["From"] == "tracker@example.com"
    assert email["To"] == "oncall@example.com,lead@example.com"
    body = email["TextBody"]
    assert "Project:      my-app" in body and "Environment:  prod" in body
    assert "Count:        2" in body
    assert "Culprit:      /srv/app/views.py:42 in handler" in body
    assert "raise ValueError('invalid input')" in body
    assert f"https://errors.example.com/admin/errors/error/{error_id}/change/" in body
    assert alert_statuses() == [("new", "sent")]


def test_regression_alerts_when_resolved_group_reopens(api, alerting):
    error_id = send(api).json()["id"]
    send_due_alerts()
    api.post(f"/api/errors/{error_id}/resolve")

    send(api)
    send(api)
    send_due_alerts()

    assert [m["Subject"] for m in alerting.messages] == [
        "[my-app/prod] ValueError: invalid input",
        "[my-app/prod] Regression: ValueError: invalid input",
    ]


def test_existing_open_group_does_not_alert(api, alerting):
    send(api)
    send_due_alerts()
    send(api)
    send(api)

    assert send_due_alerts() == 0
    assert len(alerting.messages) == 1


def test_long_subject_is_truncated(api, alerting):
    send(api, message="x" * 500)
    send_due_alerts()

    subject = alerting.messages[0]["Subject"]
    assert len(subject) == 150
    assert subject.endswith("…")


def test_alert_environments_limit_who_pages(api, alerting, settings):
    settings.ALERT_ENVIRONMENTS = ["prod"]
    send(api, environment="staging", traceback=python_traceback(line=1))
    send(api, environment="prod", traceback=python_traceback(line=2))
    send_due_alerts()

    assert [m["Subject"].split("]")[0] for m in alerting.messages] == ["[my-app/prod"]


def test_flood_control_caps_emails_and_counts_the_suppressed(api, alerting, settings):
    settings.ALERT_MAX_PER_HOUR = 3
    for line in range(1, 6):
        send(api, traceback=python_traceback(line=line))
    send_due_alerts()

    assert len(alerting.messages) == 3
    assert [status for _, status in alert_statuses()] == ["sent", "sent", "sent", "suppressed", "suppressed"]

    later = timezone.now() + timedelta(hours=1, minutes=1)
    send(api, traceback=python_traceback(line=99))
    send_due_alerts(now=later)

    assert len(alerting.messages) == 4
    assert "2 more alerts were suppressed by flood control" in alerting.messages[3]["TextBody"]
    send(api, traceback=python_traceback(line=100))
    send_due_alerts(now=later)
    assert "suppressed" not in alerting.messages[4]["TextBody"]


def test_server_error_is_retried_with_backoff_then_sent(api, alerting):
    alerting.mode = "500"
    send(api)
    send_due_alerts()

    alert = Alert.objects.get()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert send_due_alerts() == 0  # not due yet

    alerting.mode = "ok"
    send_due_alerts(now=alert.next_attempt_at)

    assert Alert.objects.get().status == "sent"
    assert len(alerting.messages) == 1


def test_unreachable_postmark_gives_up_after_a_few_attempts(api, alerting, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.POSTMARK_API_URL = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    send(api)

    moment = timezone.now()
    for _ in range(6):
        send_due_alerts(now=moment)
        moment += timedelta(hours=1)

    alert = Alert.objects.get()
    assert (alert.status, alert.attempts) == ("failed", 4)
    assert "Connection" in alert.last_error


def test_an_unexpected_failure_is_retried_and_the_batch_goes_on(api, alerting):
    """A 502 from a proxy makes postmarker itself fail (KeyError on the missing ErrorCode)."""
    alerting.mode = "proxy"
    send(api, traceback=python_traceback(line=1))
    send(api, traceback=python_traceback(line=2))

    assert send_due_alerts() == 2

    assert alerting.requests == 2
    alerts = list(Alert.objects.order_by("id"))
    assert [(a.status, a.attempts) for a in alerts] == [("pending", 1), ("pending", 1)]
    assert alerts[0].last_error.startswith("KeyError")
    alerting.mode = "ok"
    send_due_alerts(now=alerts[1].next_attempt_at)
    assert alert_statuses() == [("new", "sent"), ("new", "sent")]


def test_an_alert_claimed_again_and_again_by_dying_workers_is_given_up(api, alerting):
    send(api)
    moment = timezone.now()
    for _ in range(4):  # each worker claims it, then dies before recording a result
        Alert.objects.update(status=Alert.SENDING, attempts=models.F("attempts") + 1, next_attempt_at=moment)
        moment += timedelta(minutes=6)

    send_due_alerts(now=moment)

    alert = Alert.objects.get()
    assert alert.status == "failed" and alert.attempts == 5
    assert alerting.messages == []


@pytest.mark.django_db(transaction=True)
def test_workers_sending_together_stay_within_the_hourly_cap(alerting, settings):
    """Four workers, as four processes or instances would run them, share ALERT_MAX_PER_HOUR."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("threads share one in-memory test database on SQLite; writes there are serialised anyway")
    settings.ALERT_MAX_PER_HOUR = 3
    api = APIClient()
    api.credentials(HTTP_X_API_KEY="test-api-key")
    for line in range(1, 11):
        send(api, traceback=python_traceback(line=line))
    start = threading.Barrier(4)

    def worker():
        start.wait()
        try:
            send_due_alerts()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(alerting.messages) == 3
    assert Alert.objects.filter(status="sent").count() == 3


def test_rejected_email_is_not_retried(api, alerting):
    alerting.mode = "422"
    send(api)
    send_due_alerts()

    alert = Alert.objects.get()
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert "inactive" in alert.last_error


def test_wrong_token_is_refused_by_postmark(api, alerting, settings):
    settings.POSTMARK_API_TOKEN = "not-the-token"
    send(api)
    send_due_alerts()

    assert Alert.objects.get().status == "failed"
    assert alerting.messages == []


def test_no_alert_rows_when_alerts_are_off(api, settings):
    settings.POSTMARK_API_TOKEN = ""
    send(api)

    assert Alert.objects.count() == 0


@override_settings(POSTMARK_API_TOKEN="t", POSTMARK_FROM_EMAIL="", ALERT_EMAILS=[])
def test_start_up_line_names_missing_variables():
    assert describe_alert_configuration() == "email alerts off: POSTMARK_FROM_EMAIL not set"


def test_a_project_may_name_its_own_recipients_and_environments(api, alerting):
    from projects.models import Project

    from projects.auth import forget_cached_keys

    send(api, project="shop", environment="prod", traceback=python_traceback(line=1))
    send_due_alerts()
    Project.objects.filter(name="shop").update(alert_emails="shop-team@example.com", alert_environments="staging")
    forget_cached_keys()
    send(api, project="shop", environment="prod", traceback=python_traceback(line=2))
    send(api, project="shop", environment="staging", traceback=python_traceback(line=3))
    send_due_alerts()

    assert [(m["To"], m["Subject"].split("]")[0]) for m in alerting.messages] == [
        ("oncall@example.com,lead@example.com", "[shop/prod"),  # before the project named its own
        ("shop-team@example.com", "[shop/staging"),
    ]


def alerting_env(postmark):
    """The variables that turn alerts on in a real server, pointed at the local Postmark."""
    return {
        "POSTMARK_API_TOKEN": TOKEN,
        "POSTMARK_FROM_EMAIL": "tracker@example.com",
        "ALERT_EMAILS": "oncall@example.com",
        "POSTMARK_API_URL": postmark.url,
    }


@pytest.mark.server
def test_running_service_sends_alerts_in_the_background_and_survives_postmark_outage(tmp_path, postmark):
    server = RunningTracker(tmp_path, {**alerting_env(postmark), "ALERT_RETRY_DELAY": "0.5"}).start()
    try:
        session = server.session()
        postmark.mode = "500"
        started = time.monotonic()
        assert session.post(f"{server.url}/api/errors", json=report(), timeout=5).status_code == 201
        assert time.monotonic() - started < 2  # the failing Postmark is not on the request path

        deadline = time.monotonic() + 20
        while postmark.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert postmark.requests >= 2  # first try failed, a retry followed
        postmark.mode = "ok"
        while not postmark.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [m["Subject"] for m in postmark.messages] == ["[my-app/prod] ValueError: invalid input"]
    finally:
        server.stop()
    assert "email alerts on: to 1 recipient(s)" in server.log.read_text()


@pytest.mark.server
def test_slow_postmark_does_not_slow_ingestion(tmp_path, postmark):
    postmark.mode = "slow"
    server = RunningTracker(tmp_path, alerting_env(postmark)).start()
    try:
        session = server.session()
        timings = []
        for line in range(1, 6):  # five new groups: five alerts for the slow server
            started = time.monotonic()
            response = session.post(f"{server.url}/api/errors", json=report(traceback=python_traceback(line=line)), timeout=10)
            timings.append(time.monotonic() - started)
            assert response.status_code == 201
        deadline = time.monotonic() + 30
        while len(postmark.messages) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()

    assert max(timings) < 0.5  # each alert send takes 1 s
    assert len(postmark.messages) == 5


def test_an_ended_mute_is_emailed_as_unmuted(api, alerting):
    error_id = send(api).json()["id"]
    api.post(f"/api/errors/{error_id}/mute", {"events": 1}, format="json")
    send(api)

    assert send_due_alerts() == 2

    email = alerting.messages[1]
    assert email["Subject"] == "[my-app/prod] Unmuted: ValueError: invalid input"
    assert email["TextBody"].startswith("A muted error's mute has ended")
