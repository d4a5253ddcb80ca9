"""A web page on another origin reports its own errors, with the README's snippet or with
Sentry's browser SDK, in a real headless Chromium, to the real server: what a team adding the
tracker to its site would see."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO, RunningTracker, is_report_answer

pytestmark = pytest.mark.browser

SENTRY_BUNDLE = REPO / "tests" / "fixtures" / "sentry_browser" / "sentry-browser.min.js"
# The shop's script: "Buy" throws on line 2, "Later" rejects a promise on line 6.
APP_JS = """function total(cart) {
  return cart.items.length;
}
document.getElementById("buy").addEventListener("click", function () { total({}); });
document.getElementById("later").addEventListener("click", function () {
  Promise.reject(new RangeError("quantity out of range"));
});
"""


def readme_snippet(tracker_url, key):
    """The browser snippet exactly as README.md shows it, pointed at this tracker."""
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"<!-- browser-snippet -->\n```html\n(.*?)```\n<!-- /browser-snippet -->", readme, re.S).group(1)
    return snippet.replace("https://errors.example.com", tracker_url).replace("your-project-key", key)


class Shop:
    """A web site on its own origin (http://127.0.0.1:<port>): the shop page with the README's
    snippet at /, the same page with Sentry's browser SDK at /sentry, and their scripts."""

    def __init__(self):
        self.pages = {}
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                files = {
                    **{path: (page, "text/html") for path, page in shop.pages.items()},
                    "/app.js": (APP_JS, "text/javascript"),
                    "/sentry-browser.min.js": (SENTRY_BUNDLE.read_text(), "text/javascript"),
                }
                body, kind = files.get(self.path, ("", "text/plain"))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def report_to(self, tracker, dsn):
        """Both pages report with the key of `dsn`, made by `error-tracker createproject`."""
        key = dsn.split("//", 1)[1].split("@", 1)[0]
        sentry = (
            "<script src=/sentry-browser.min.js></script><script>"
            f'Sentry.init({{dsn: "{dsn}", environment: "prod"}});</script>'
        )
        body = "<body><button id=buy>Buy</button><button id=later>Later</button><script src=/app.js></script></body>"
        self.pages = {
            "/": f"<!doctype html><html><head>{readme_snippet(tracker.url, key)}</head>{body}</html>",
            "/sentry": f"<!doctype html><html><head>{sentry}</head>{body}</html>",
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shops():
    """Two shops on two origins."""
    first, second = Shop(), Shop()
    yield first, second
    first.close()
    second.close()


def start_tracker(tmp_path, shops, allowed_origin):
    """The tracker, with a project `shop` whose key accepts reports from `allowed_origin`."""
    tracker = RunningTracker(tmp_path).start()
    dsn = tracker.createproject("shop", "--origin", allowed_origin)
    for shop in shops:
        shop.report_to(tracker, dsn)
    tracker.dsn = dsn
    return tracker


@pytest.fixture
def tracker(tmp_path, shops):
    """The tracker, allowing the first shop's origin only."""
    running = start_tracker(tmp_path, shops, shops[0].origin)
    yield running
    running.stop()


def click_and_wait_for_report(page, selector):
    """Click, and return the tracker's answer to the report the page sent (either way)."""
    with page.expect_response(is_report_answer) as answer:
        page.click(selector)
    return answer.value


def test_uncaught_error_is_grouped_at_the_line_of_the_page_script_that_threw(page, shops, tracker):
    shop = shops[0]
    page.goto(f"{shop.origin}/")

    first = click_and_wait_for_report(page, "#buy")
    second = click_and_wait_for_report(page, "#buy")

    assert (first.status, second.status) == (201, 200)
    assert second.json()["count"] == 2
    [detail] = tracker.error_details()
    error, occurrence = detail["error"], detail["occurrences"][0]
    assert error["exception_type"] == "TypeError"
    assert error["message"] == "Cannot read properties of undefined (reading 'length')"
    assert error["source"] == "browser"
    assert error["count"] == 2
    assert error["culprit"] == {"file": f"{shop.origin}/app.js", "line": 2, "function": "total"}
    assert occurrence["request_url"] == f"{shop.origin}/"
    assert "Chrome/" in occurrence["request_headers"]["User-Agent"]


def test_unhandled_promise_rejection_is_reported(page, shops, tracker):
    page.goto(f"{shops[0].origin}/")

    assert click_and_wait_for_report(page, "#later").status == 201

    [detail] = tracker.error_details()
    assert (detail["error"]["exception_type"], detail["error"]["message"]) == ("RangeError", "quantity out of range")
    assert detail["error"]["culprit"]["line"] == 6


def test_page_on_an_origin_not_allowed_cannot_report(page, shops, tracker):
    page.goto(f"{shops[1].origin}/")

    with page.expect_event("requestfailed", lambda request: request.url.endswith("/api/errors")) as failed:
        page.click("#buy")

    assert failed.value.failure == "net::ERR_FAILED"
    assert tracker.error_details() == []


def test_a_lone_star_lets_pages_on_any_origin_report(page, shops, tmp_path):
    tracker = start_tracker(tmp_path, shops, "*")
    try:
        page.goto(f"{shops[1].origin}/")
        answer = click_and_wait_for_report(page, "#buy")
    finally:
        tracker.stop()

    assert answer.status == 201


def test_sentry_browser_sdk_reports_through_its_dsn(page, shops, tracker):
    shop = shops[0]
    page.goto(f"{shop.origin}/sentry")

    answer = click_and_wait_for_report(page, "#buy")

    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == shop.origin
    [detail] = tracker.error_details()
    error, occurrence = detail["error"], detail["occurrences"][0]
    assert (error["project"], error["environment"], error["exception_type"]) == ("shop", "prod", "TypeError")
    assert error["message"] == "Cannot read properties of undefined (reading 'length')"
    assert error["source"] == "browser"
    assert error["culprit"] == {"file": f"{shop.origin}/app.js", "line": 2, "function": "total"}
    assert occurrence["request_url"] == f"{shop.origin}/sentry"
