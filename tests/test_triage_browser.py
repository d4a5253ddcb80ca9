"""Triage insight in a real headless Chromium against the real server: charts, users, mute,
and the activity of a change made through the API."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN, RunningTracker, admin_browser_page
from tests.factories import python_traceback, report
from tests.postmark import FakePostmark

pytestmark = pytest.mark.browser

POSTMARK_TOKEN = "postmark-token"


@pytest.fixture
def postmark():
    with FakePostmark(POSTMARK_TOKEN) as server:
        yield server


@pytest.fixture
def server(tmp_path, postmark):
    alerting = {
        "POSTMARK_API_TOKEN": POSTMARK_TOKEN, "POSTMARK_FROM_EMAIL": "tracker@example.com",
        "POSTMARK_API_URL": postmark.url, "ALERT_EMAILS": "oncall@example.com",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    running = RunningTracker(tmp_path, {**ADMIN, **alerting}).start()
    yield running
    running.stop()


@pytest.fixture
def admin_page(browser, server):
    with admin_browser_page(browser, server, width=1500) as page:
        yield page


def send(server, **fields):
    response = server.session().post(f"{server.url}/api/errors", json=report(**fields), timeout=5)
    assert response.status_code in (200, 201), response.text
    return response.json()


def rows(page):
    return page.locator("#result_list tbody tr")


def wait_for(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_list_shows_each_groups_last_24_hours_and_its_users(admin_page, server):
    send(server, message="card declined", traceback=python_traceback(line=1), user_id="ann")
    for user in ["bob", "cy", "ann", "dee"]:
        send(server, message="card declined", traceback=python_traceback(line=1), user_id=user)
    send(server, message="template missing", traceback=python_traceback(line=2), user_id="ann")

    admin_page.goto("/admin/errors/error/")

    busy_row = rows(admin_page).filter(has_text="card declined")
    expect(busy_row.locator("td.field-users_display")).to_have_text("4")
    expect(rows(admin_page).filter(has_text="template missing").locator("td.field-users_display")).to_have_text("1")
    bars = busy_row.locator("td.field-events_24h svg rect")
    expect(bars).to_have_count(24)
    expect(busy_row.locator("td.field-events_24h svg")).to_have_attribute("aria-label", "5 events")
    # The current hour's bar is the full height; the 23 before it are empty.
    assert busy_row.locator("td.field-events_24h svg rect.bar:not(.empty)").count() == 1
    assert "5 events" in bars.last.locator("title").text_content()


def test_the_group_page_charts_24_hours_and_14_days(admin_page, server):
    created = send(server, message="stock went negative")
    send(server, message="stock went negative")

    admin_page.goto(f"/admin/errors/error/{created['id']}/change/")

    charts = admin_page.locator(".field-charts_display svg.event-chart")
    expect(charts).to_have_count(2)
    expect(charts.nth(0).locator("rect")).to_have_count(24)
    expect(charts.nth(1).locator("rect")).to_have_count(14)
    expect(charts.nth(0)).to_have_attribute("aria-label", "2 events")
    expect(charts.nth(1)).to_have_attribute("aria-label", "2 events")


def test_a_function_named_only_in_a_traceback_finds_its_group(admin_page, server):
    send(server, message="payment failed", traceback=python_traceback(file="/srv/app/ledger.py", function="reconcile_batch"))
    send(server, message="payment failed", traceback=python_traceback(line=7))
    send(server, message="template missing", traceback=python_traceback(line=8))
    admin_page.goto("/admin/errors/error/")
    expect(rows(admin_page)).to_have_count(3)

    admin_page.fill("#searchbar", "reconcile_batch")
    admin_page.press("#searchbar", "Enter")

    expect(rows(admin_page)).to_have_count(1)
    row = rows(admin_page).first
    expect(row).to_contain_text("payment failed")
    row.locator("th a").first.click()
    expect(admin_page.locator("mark.culprit")).to_contain_text("reconcile_batch")


def test_mute_for_an_hour_hides_the_group_and_its_reports_alert_nobody(admin_page, server, postmark):
    created = send(server, message="noisy retry loop", traceback=python_traceback(line=3))
    send(server, message="quiet one", traceback=python_traceback(line=4))
    assert wait_for(lambda: len(postmark.messages) == 2), postmark.messages

    admin_page.goto(f"/admin/errors/error/{created['id']}/change/")
    admin_page.select_option("#mute-for", "1h")
    admin_page.click("#mute-button")
    expect(admin_page.locator(".messagelist")).to_contain_text("Muted 1 error(s).")
    expect(admin_page.locator(".field-status")).to_contain_text("Muted until")

    admin_page.goto("/admin/errors/error/")
    expect(rows(admin_page)).to_have_count(1)
    expect(rows(admin_page).first).to_contain_text("quiet one")

    api = server.session()
    api.post(f"{server.url}/api/errors/{created['id']}/resolve", timeout=5)
    api.post(f"{server.url}/api/errors/{created['id']}/mute", json={"until": "2999-01-01T00:00:00Z"}, timeout=5)
    send(server, message="noisy retry loop", traceback=python_traceback(line=3))
    # The jobs thread polls every 2 seconds: give it three rounds to (wrongly) send something.
    time.sleep(6)
    assert len(postmark.messages) == 2

    admin_page.locator("#changelist-filter").get_by_role("link", name="Muted", exact=True).click()
    expect(rows(admin_page)).to_have_count(1)
    expect(rows(admin_page).first).to_contain_text("noisy retry loop")
    expect(rows(admin_page).first.locator("td.field-count")).to_have_text("2")


def test_the_group_page_shows_a_resolve_made_through_the_api(admin_page, server):
    created = send(server, message="ledger out of balance")

    response = server.session().post(
        f"{server.url}/api/errors/{created['id']}/resolve", json={"in_release": "2.4.1"}, timeout=5
    )
    assert response.status_code == 200

    admin_page.goto(f"/admin/errors/error/{created['id']}/change/")
    activity = admin_page.locator(".field-activity_display li")
    expect(activity).to_have_count(1)
    expect(activity.first).to_contain_text("resolved in a release 2.4.1 by API key")

    admin_page.select_option("#mute-for", "")
    admin_page.click("#mute-button")
    expect(activity).to_have_count(2)
    expect(activity.first).to_contain_text("muted by triager (admin)")


class Receiver:
    """A webhook receiver on 127.0.0.1 keeping every JSON body POSTed to it."""

    def __init__(self):
        self.bodies = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def test_a_channel_added_on_the_project_page_gets_the_new_error(admin_page, server, receiver):
    admin_page.goto("/admin/projects/project/add/")
    admin_page.fill("#id_name", "shop")
    admin_page.locator("#alert_channels-group").get_by_text("Add another Alert channel").click()
    admin_page.select_option("#id_alert_channels-0-kind", "webhook")
    admin_page.fill("#id_alert_channels-0-url", receiver.url)
    admin_page.fill("#id_alert_channels-0-label", "ops receiver")
    admin_page.click("input[name=_save]")
    expect(admin_page.locator(".messagelist")).to_contain_text("was added successfully")

    created = send(server, project="shop", message="card declined", user_id="ann")

    assert wait_for(lambda: receiver.bodies), "the receiver got nothing"
    [body] = receiver.bodies
    assert body["event"] == "new"
    assert body["error"]["id"] == created["id"]
    assert (body["error"]["project"], body["error"]["message"], body["error"]["users"]) == ("shop", "card declined", 1)
    assert body["error"]["url"] == f"{server.url}/admin/errors/error/{created['id']}/change/"
