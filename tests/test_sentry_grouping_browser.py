"""Content-Security-Policy violations that headless Chromium itself reports to a project's
security endpoint (POST /api/<n>/security/?sentry_key=...), grouped by directive and blocked origin."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sdk_clients import new_project, tracker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


class PolicedPage:
    """A page on its own origin whose Content-Security-Policy blocks two images from one other
    origin and a script from a third, and reports each violation to its `report_uri`."""

    def __init__(self):
        page = self
        self.report_uri = None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/":
                    self.send_error(404)
                    return
                body = page.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                policy = f"default-src 'self'; img-src 'self'; report-uri {page.report_uri}"
                self.send_header("Content-Security-Policy", policy)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.url = f"{self.origin}/"
        self.image_origin, self.script_origin = f"http://127.0.0.2:{port}", f"http://127.0.0.3:{port}"
        self.html = (
            "<!doctype html><html><head><title>Shop</title></head><body>"
            f'<img src="{self.image_origin}/a.png"><img src="{self.image_origin}/b.png">'
            f'<script src="{self.script_origin}/x.js"></script>'
            "</body></html>"
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for_reports(project, reports, timeout=10):
    """The project's groups once they count `reports` occurrences (browsers report asynchronously),
    or as they are after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        details = project.groups()
        if sum(detail["error"]["count"] for detail in details) >= reports or time.monotonic() > deadline:
            return details
        time.sleep(0.2)


@pytest.fixture
def shop():
    page = PolicedPage()
    yield page
    page.close()


def test_chromium_csp_reports_are_grouped_by_directive_and_blocked_origin(page, shop, tracker, new_project):
    # Chromium sends the page's Origin with each report: the key must accept it, as for the SDKs.
    project = new_project("--origin", shop.origin)
    shop.report_uri = f"{tracker.url}/api/{project.number}/security/?sentry_key={project.key}"

    page.goto(shop.url)
    details = wait_for_reports(project, 3)

    by_message = {detail["error"]["message"]: detail for detail in details}
    images = by_message.get(f"Blocked 'img-src' from {shop.image_origin}")
    assert images is not None, list(by_message)
    [scripts] = [detail for message, detail in by_message.items() if message.endswith(f"from {shop.script_origin}")]
    assert scripts["error"]["message"].startswith("Blocked 'script-src")
    assert [images["error"]["count"], scripts["error"]["count"], len(details)] == [2, 1, 2]
    for detail in (images, scripts):
        assert (detail["error"]["exception_type"], detail["error"]["source"]) == ("CSP violation", "browser")
        assert {occurrence["request_url"] for occurrence in detail["occurrences"]} == {shop.url}
