"""Alert channels (Slack-compatible, Discord, generic JSON) through real HTTP to a local
receiver, and the pure parts: the bodies and the address guard."""

import ipaddress
import json
import socket
import threading
import time
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from errors.models import Alert, Error
from notifications import webhooks
from notifications.alerts import send_due_alerts
from notifications.webhooks import AddressRefused, check_address, discord_body, generic_body, slack_body
from projects.models import AlertChannel, Project
from tests.factories import python_traceback, report
from tests.postmark import FakePostmark
from tests.test_projects import NO_BUNDLES


class Receiver:
    """A local HTTP server taking alert POSTs: it answers each with the next of `answers`
    (status, headers, body), then with 200 "ok"; `received` holds each request's path and body."""

    def __init__(self):
        self.answers = []
        self.received = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self, path=None):
        return [body for at, body in self.received if path is None or at == path]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.received.append((self.path, body))
                    status, headers, answer = receiver.answers.pop(0) if receiver.answers else (200, {}, b"ok")
                self.send_response(status)
                for name, value in {"Content-Length": str(len(answer)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PUBLIC_URL = "https://errors.example.com"
    settings.ALERT_RETRY_DELAY = 60
    with Receiver() as server:
        yield server


def channel(kind, url, project="my-app", **fields):
    owner, _ = Project.objects.get_or_create(name=project)
    return AlertChannel.objects.create(project=owner, kind=kind, url=url, **fields)


def send(api, **fields):
    return api.post("/api/errors", report(**fields), format="json")


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def link(error):
    return f"https://errors.example.com/admin/errors/error/{error.pk}/change/"


def only_alert():
    return Alert.objects.get()


# --- what each kind receives ---------------------------------------------------------------


def test_a_slack_channel_gets_new_and_regression_messages(api, receiver):
    channel(AlertChannel.SLACK, f"{receiver.url}/slack")
    error_id = send(api).json()["id"]
    send(api)
    send_due_alerts()
    api.post(f"/api/errors/{error_id}/resolve")
    send(api)
    send_due_alerts()

    error = Error.objects.get()
    attachment = {
        "fallback": "ValueError: invalid input",
        "title": "ValueError: invalid input",
        "title_link": link(error),
        "text": "invalid input",
    }
    culprit = {"title": "Culprit", "value": "/srv/app/views.py:42 in handler", "short": False}
    assert receiver.received == [
        ("/slack", {"text": "New error in my-app/prod", "attachments": [{
            **attachment, "color": "#d7263d",
            "fields": [{"title": "Count", "value": "2", "short": True}, {"title": "Users", "value": "1", "short": True}, culprit],
        }]}),
        ("/slack", {"text": "Regression in my-app/prod", "attachments": [{
            **attachment, "color": "#f46036",
            "fields": [{"title": "Count", "value": "3", "short": True}, {"title": "Users", "value": "1", "short": True}, culprit],
        }]}),
    ]


def test_a_discord_channel_gets_new_and_regression_messages(api, receiver):
    channel(AlertChannel.DISCORD, f"{receiver.url}/discord")
    error_id = send(api).json()["id"]
    send_due_alerts()
    seen_at_first = Error.objects.get().last_seen
    api.post(f"/api/errors/{error_id}/resolve")
    send(api, user_id="user-7")
    send_due_alerts()

    error = Error.objects.get()
    culprit = {"name": "Culprit", "value": "/srv/app/views.py:42 in handler", "inline": False}

    def message(content, color, count, users, last_seen):
        return {
            "content": content,
            "embeds": [{
                "title": "ValueError: invalid input", "url": link(error), "color": color,
                "description": "invalid input", "timestamp": iso(last_seen),
                "fields": [
                    {"name": "Count", "value": count, "inline": True}, {"name": "Users", "value": users, "inline": True}, culprit,
                ],
            }],
            "allowed_mentions": {"parse": []},
        }

    assert receiver.bodies() == [
        message("New error in my-app/prod", 0xD7263D, "1", "1", seen_at_first),
        message("Regression in my-app/prod", 0xF46036, "2", "2", error.last_seen),
    ]


def test_a_json_channel_gets_the_documented_body(api, receiver):
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    error_id = send(api).json()["id"]
    moment = timezone.now()
    send_due_alerts(now=moment)
    new = Error.objects.get()
    api.post(f"/api/errors/{error_id}/resolve")
    send(api)
    later = timezone.now()
    send_due_alerts(now=later)

    error = Error.objects.get()

    def body(event, group, status, sent_at):
        return {
            "event": event,
            "error": {
                "id": error_id, "project": "my-app", "environment": "prod", "exception_type": "ValueError",
                "message": "invalid input", "count": group.count, "users": 1,
                "first_seen": iso(group.first_seen), "last_seen": iso(group.last_seen),
                "culprit": {"file": "/srv/app/views.py", "line": 42, "function": "handler"},
                "status": status, "url": link(group),
            },
            "suppressed": 0,
            "sent_at": iso(sent_at),
        }

    assert receiver.bodies() == [body("new", new, "unresolved", moment), body("regression", error, "unresolved", later)]
    assert error.count == 2


def test_an_unmuted_group_alerts_its_channels(api, receiver):
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    error = Error.objects.get(pk=send(api).json()["id"])
    send_due_alerts()
    error.mute(events=1)
    send(api)
    send(api)
    send_due_alerts()

    assert [body["event"] for body in receiver.bodies()] == ["new", "unmuted"]


# --- retries, refusals, flood control ------------------------------------------------------


def test_a_server_error_is_retried_with_backoff_then_sent(api, receiver):
    channel(AlertChannel.SLACK, f"{receiver.url}/slack")
    receiver.answers = [(500, {}, b"oops")]
    send(api)
    moment = timezone.now()
    send_due_alerts(now=moment)

    alert = only_alert()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at == moment + timedelta(seconds=60)
    assert alert.last_error == "HTTPError: HTTP 500 from 127.0.0.1: oops"
    assert send_due_alerts(now=moment) == 0

    send_due_alerts(now=alert.next_attempt_at)

    assert (only_alert().status, only_alert().last_error) == ("sent", "")
    assert len(receiver.received) == 2


def test_failed_sends_use_none_of_the_flood_budget(api, receiver, settings):
    settings.ALERT_MAX_PER_HOUR = 2
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    moment = (timezone.now() + timedelta(hours=1)).replace(minute=1)
    for line in (1, 2, 3):
        send(api, traceback=python_traceback(line=line))
    receiver.answers = [(503, {}, b"down")] * 2
    send_due_alerts(now=moment)  # the first two fail, the third is sent

    send_due_alerts(now=moment + timedelta(minutes=10))  # one retry is sent, the other held back

    statuses = sorted(a.status for a in Alert.objects.all())
    assert statuses == ["sent", "sent", "suppressed"]
    assert len(receiver.received) == 4


def test_a_client_error_is_not_retried(api, receiver):
    channel(AlertChannel.SLACK, f"{receiver.url}/slack")
    receiver.answers = [(400, {}, b"invalid_payload")]
    send(api)
    send_due_alerts()
    send_due_alerts(now=timezone.now() + timedelta(days=1))

    alert = only_alert()
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert alert.last_error == "HTTPError: HTTP 400 from 127.0.0.1: invalid_payload"
    assert len(receiver.received) == 1


def test_a_redirect_is_not_followed(api, receiver):
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    receiver.answers = [(302, {"Location": f"{receiver.url}/elsewhere"}, b"")]
    send(api)
    send_due_alerts()

    alert = only_alert()
    assert (alert.status, alert.last_error) == ("failed", "HTTPError: HTTP 302 from 127.0.0.1: Found")
    assert [path for path, _ in receiver.received] == ["/hook"]


@pytest.mark.parametrize(
    "retry_after, delay",
    [("120", 120), ("86400", 3600), ("in a while", 60), (None, 60), ("date", 300)],
    ids=["seconds", "capped at an hour", "unreadable: backoff", "absent: backoff", "http date"],
)
def test_too_many_requests_waits_as_retry_after_says(api, receiver, retry_after, delay):
    channel(AlertChannel.DISCORD, f"{receiver.url}/discord")
    send(api)
    moment = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)  # whole seconds, as HTTP dates are
    if retry_after == "date":
        retry_after = format_datetime(moment + timedelta(seconds=300), usegmt=True)
    receiver.answers = [(429, {"Retry-After": retry_after} if retry_after else {}, b'{"message": "You are being rate limited."}')]
    send_due_alerts(now=moment)

    alert = only_alert()
    assert (alert.status, alert.next_attempt_at) == ("pending", moment + timedelta(seconds=delay))
    send_due_alerts(now=alert.next_attempt_at)
    assert only_alert().status == "sent"


def test_an_unreachable_receiver_is_retried_then_given_up(api, receiver):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        channel(AlertChannel.WEBHOOK, f"http://127.0.0.1:{sock.getsockname()[1]}/hook/secret-token")
    send(api)
    moment = timezone.now()
    for _ in range(5):
        send_due_alerts(now=moment)
        moment += timedelta(hours=1)

    alert = only_alert()
    assert (alert.status, alert.attempts) == ("failed", 4)
    assert alert.last_error.startswith("ConnectionError: 127.0.0.1: ") and "Connection refused" in alert.last_error
    assert "secret-token" not in alert.last_error


class TricklingReceiver:
    """A receiver that reads the POST, then sends its answer's head a byte at a time, each
    well within the per-read timeout, and never finishes it (for `seconds`, then it hangs up)."""

    def __init__(self, seconds=20):
        self.seconds = seconds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            ends = time.monotonic() + self.seconds
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while time.monotonic() < ends:
                    connection.sendall(b"a")
                    time.sleep(0.2)
            except OSError:
                pass  # the sender hung up


def test_a_receiver_that_trickles_its_answer_is_cut_off_and_retried(api, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "SEND_DEADLINE", 1)
    slow = TricklingReceiver()
    channel(AlertChannel.WEBHOOK, f"{slow.url}/hook")
    channel(AlertChannel.SLACK, f"{receiver.url}/slack")
    send(api)
    started = time.monotonic()
    send_due_alerts()

    assert time.monotonic() - started < slow.seconds / 2
    slow_alert, other = Alert.objects.order_by("channel_id")
    assert (slow_alert.status, slow_alert.last_error) == ("pending", "Timeout: 127.0.0.1: no complete answer within 1 s")
    assert other.status == "sent" and len(receiver.bodies("/slack")) == 1


def test_flood_control_caps_each_channel_on_its_own_and_reports_the_suppressed(api, receiver, settings):
    settings.ALERT_MAX_PER_HOUR = 2
    channel(AlertChannel.SLACK, f"{receiver.url}/slack")
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    for line in range(1, 4):
        send(api, traceback=python_traceback(line=line))
    send_due_alerts()

    assert (len(receiver.bodies("/slack")), len(receiver.bodies("/hook"))) == (2, 2)
    statuses = list(Alert.objects.order_by("channel_id", "id").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "suppressed"] * 2

    send(api, traceback=python_traceback(line=4))
    send_due_alerts(now=timezone.now() + timedelta(hours=1, minutes=1))

    assert receiver.bodies("/slack")[2]["text"] == (
        "New error in my-app/prod\n1 more alert was suppressed by flood control since the last message."
    )
    assert receiver.bodies("/hook")[2]["suppressed"] == 1


# --- the address guard, end to end ---------------------------------------------------------


def test_a_loopback_receiver_not_allowed_is_refused_and_sent_nothing(api, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    send(api)
    send_due_alerts()

    alert = only_alert()
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert alert.last_error == (
        "AddressRefused: refused to send to 127.0.0.1: a loopback address, and WEBHOOK_ALLOWED_HOSTS does not allow it"
    )
    assert receiver.received == []


def test_a_host_name_resolving_to_loopback_is_refused(api, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.0.0.0/8", "hooks.example.com"]
    channel(AlertChannel.SLACK, f"http://localhost:{receiver.port}/slack")
    send(api)
    send_due_alerts()

    alert = only_alert()
    assert alert.status == "failed"
    assert "refused to send to localhost (" in alert.last_error and "a loopback address" in alert.last_error
    assert receiver.received == []


def test_https_to_a_refused_address_stops_before_the_handshake(api, receiver, settings):
    """The receiver speaks plain HTTP: a handshake attempted first would fail as an SSL error."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    channel(AlertChannel.SLACK, f"https://127.0.0.1:{receiver.port}/slack")
    send(api)
    send_due_alerts()

    assert only_alert().last_error.startswith("AddressRefused: refused to send to 127.0.0.1")


def test_a_refused_address_is_not_even_connected_to(api, settings):
    """Not one TCP connection: a refusal after connecting would tell an open port from a closed one."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.5)
        channel(AlertChannel.WEBHOOK, f"http://localhost:{listener.getsockname()[1]}/hook")
        send(api)
        send_due_alerts()

        assert "a loopback address" in only_alert().last_error
        with pytest.raises(socket.timeout):
            listener.accept()


def test_a_host_name_in_the_allowlist_may_be_private(api, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["LOCALHOST"]
    channel(AlertChannel.SLACK, f"http://localhost:{receiver.port}/slack")
    send(api)
    send_due_alerts()

    assert only_alert().status == "sent"
    assert len(receiver.received) == 1


# --- which channels are told ---------------------------------------------------------------


def test_an_inactive_channel_gets_nothing(api, receiver):
    channel(AlertChannel.SLACK, f"{receiver.url}/off", is_active=False)
    channel(AlertChannel.SLACK, f"{receiver.url}/on")
    send(api)
    send_due_alerts()

    assert [path for path, _ in receiver.received] == ["/on"]
    assert Alert.objects.count() == 1


def test_a_channel_deactivated_before_sending_gets_nothing(api, receiver):
    hook = channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    send(api)
    AlertChannel.objects.filter(pk=hook.pk).update(is_active=False)
    send_due_alerts()

    assert (only_alert().status, only_alert().last_error) == ("failed", "the channel was deactivated")
    assert receiver.received == []


def test_channels_follow_the_projects_alert_environments(api, receiver):
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    Project.objects.filter(name="my-app").update(alert_environments="prod")
    send(api, environment="staging", traceback=python_traceback(line=1))
    send(api, environment="prod", traceback=python_traceback(line=2))
    send_due_alerts()

    assert [body["error"]["environment"] for body in receiver.bodies()] == ["prod"]


def test_other_projects_channels_are_not_told(api, receiver):
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/shop", project="shop")
    send(api)

    assert Alert.objects.count() == 0


def test_email_and_channels_each_get_the_alert_within_their_own_cap(api, receiver, settings):
    settings.ALERT_MAX_PER_HOUR = 1
    with FakePostmark("token") as postmark:
        settings.POSTMARK_API_TOKEN = "token"
        settings.POSTMARK_FROM_EMAIL = "tracker@example.com"
        settings.ALERT_EMAILS = ["oncall@example.com"]
        settings.POSTMARK_API_URL = postmark.url
        channel(AlertChannel.DISCORD, f"{receiver.url}/discord")
        send(api, traceback=python_traceback(line=1))
        send(api, traceback=python_traceback(line=2))
        send_due_alerts()

    assert [m["Subject"] for m in postmark.messages] == ["[my-app/prod] ValueError: invalid input"]
    assert [body["content"] for body in receiver.bodies()] == ["New error in my-app/prod"]
    assert sorted((kind or "email", status) for kind, status in Alert.objects.values_list("channel__kind", "status")) == [
        ("discord", "sent"), ("discord", "suppressed"), ("email", "sent"), ("email", "suppressed"),
    ]


def test_email_alerts_wait_while_email_is_off_and_channels_do_not(api, receiver, settings):
    settings.POSTMARK_API_TOKEN, settings.POSTMARK_FROM_EMAIL = "token", "tracker@example.com"
    settings.ALERT_EMAILS = ["oncall@example.com"]
    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    send(api)
    settings.POSTMARK_API_TOKEN = ""
    send_due_alerts()

    assert sorted(Alert.objects.values_list("status", flat=True)) == ["pending", "sent"]
    assert Alert.objects.get(channel=None).attempts == 0


@pytest.mark.django_db(transaction=True)
def test_the_jobs_thread_sends_channel_alerts_without_email_configured(api, receiver):
    from maintenance.jobs import BackgroundJobs

    channel(AlertChannel.WEBHOOK, f"{receiver.url}/hook")
    send(api)
    BackgroundJobs()._tick()

    assert [body["event"] for body in receiver.bodies()] == ["new"]


# --- admin ---------------------------------------------------------------------------------


def test_the_project_page_adds_and_lists_channels_and_refuses_other_schemes(admin_client):
    project = Project.objects.create(name="shop")
    form = {
        "slug": project.slug, "events_per_minute": "10000", "new_groups_per_hour": "1000",
        "fingerprint_strategy": "", "retention_days": "", "alert_emails": "", "alert_environments": "",
        "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0", "keys-MIN_NUM_FORMS": "0", "keys-MAX_NUM_FORMS": "1000",
        **NO_BUNDLES,
        "alert_channels-TOTAL_FORMS": "1", "alert_channels-INITIAL_FORMS": "0",
        "alert_channels-MIN_NUM_FORMS": "0", "alert_channels-MAX_NUM_FORMS": "1000",
        "alert_channels-0-kind": "slack", "alert_channels-0-label": "#oncall", "alert_channels-0-is_active": "on",
    }
    page = f"/admin/projects/project/{project.pk}/change/"

    refused = admin_client.post(page, {**form, "alert_channels-0-url": "ftp://hooks.example.com/x"})
    saved = admin_client.post(page, {**form, "alert_channels-0-url": "https://hooks.slack.com/services/T/B/x"})

    assert "The URL must start with http:// or https://." in refused.content.decode()
    assert saved.status_code == 302
    assert list(AlertChannel.objects.values_list("kind", "url", "label", "is_active")) == [
        ("slack", "https://hooks.slack.com/services/T/B/x", "#oncall", True)
    ]
    assert "https://hooks.slack.com/services/T/B/x" in admin_client.get(page).content.decode()


# --- the bodies, unit by unit --------------------------------------------------------------


def group(**fields):
    moment = timezone.now()
    defaults = {
        "pk": 7, "project": "shop", "environment": "prod", "exception_type": "KeyError", "message": "'cart'",
        "count": 3, "first_seen": moment, "last_seen": moment, "culprit_file": "", "culprit_line": None,
        "culprit_function": "", "muted": False, "users_sampled": 1, "users_level": 0,
    }
    return Error(**{**defaults, **fields})


def test_discord_bodies_stay_within_discords_limits():
    error = group(exception_type="E" * 300, message="m" * 5000, project="p" * 100, culprit_file="f" * 2000)

    body = discord_body(Alert.NEW, error, "https://errors.example.com/x", 0)

    embed = body["embeds"][0]
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    assert len(embed["description"]) == 4096
    assert len(embed["fields"][2]["value"]) == 1024
    assert len(body["content"]) <= 2000
    assert len(embed["title"]) + len(embed["description"]) + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) <= 6000


def test_discord_pings_nobody_and_leaves_out_an_empty_description():
    body = discord_body(Alert.NEW, group(message="  \n "), "https://x", 0)

    assert body["allowed_mentions"] == {"parse": []}
    assert "description" not in body["embeds"][0]
    assert [f["name"] for f in body["embeds"][0]["fields"]] == ["Count", "Users"]


def test_slack_text_cannot_make_links_or_mentions():
    body = slack_body(Alert.REGRESSION, group(message="<!channel> & <https://evil.example|click>"), "https://x", 2)

    attachment = body["attachments"][0]
    assert attachment["text"] == "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert attachment["title"] == "KeyError: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert body["text"] == "Regression in shop/prod\n2 more alerts were suppressed by flood control since the last message."


def test_slack_titles_and_texts_are_cut():
    attachment = slack_body(Alert.NEW, group(message="word " * 2000), "https://x", 0)["attachments"][0]

    assert len(attachment["title"]) == 300 and attachment["title"].endswith("…")
    assert len(attachment["text"]) == 3000


def test_the_generic_body_cuts_a_long_message_and_counts_users():
    error = group(message="x" * 5000, users_sampled=3, users_level=2, muted=True)

    body = generic_body(Alert.UNMUTED, error, "https://x", 4, error.last_seen)

    assert len(body["error"]["message"]) == 4000
    assert (body["event"], body["error"]["users"], body["error"]["status"], body["error"]["culprit"]) == ("unmuted", 12, "muted", None)
    assert body["suppressed"] == 4


# --- the address check ---------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808",
])
def test_public_addresses_are_allowed(address):
    check_address("hooks.example.com", address, [])


@pytest.mark.parametrize("address, category", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.10", "private"), ("172.16.5.4", "private"),
    ("169.254.169.254", "link-local"), ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"), ("100.64.0.1", "non-public"), ("::1", "loopback"), ("::", "unspecified"),
    ("fe80::1", "link-local"), ("fd12:3456::1", "private"), ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"), ("::127.0.0.1", "reserved"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a00:1", "private"), ("fec0::1", "site-local"),
])
def test_addresses_that_are_not_public_are_refused(address, category):
    with pytest.raises(AddressRefused, match=f"a {category} address"):
        check_address("hooks.example.com", address, [])


@pytest.mark.parametrize("address, allowed", [
    ("10.1.2.3", ["10.0.0.0/8"]), ("10.1.2.3", ["10.1.2.3"]), ("fd12:3456::1", ["fd00::/8"]),
    ("::ffff:10.1.2.3", ["10.0.0.0/8"]), ("::1", ["::1"]), ("192.168.0.10", ["HOOKS.example.com."]),
])
def test_the_allowlist_names_hosts_addresses_and_networks(address, allowed):
    check_address("hooks.example.com", address, allowed)


@pytest.mark.parametrize("address, allowed", [
    ("10.1.2.3", ["10.2.0.0/16"]), ("127.0.0.1", ["::1"]), ("192.168.0.10", ["other.example.com"]),
])
def test_the_allowlist_allows_nothing_else(address, allowed):
    with pytest.raises(AddressRefused, match=f"refused to send to hooks.example.com \\({ipaddress.ip_address(address)}\\)"):
        check_address("hooks.example.com", address, allowed)
