"""Reports from web pages on other origins: the CORS answers a browser needs, and only those.

tests/test_browser_client.py sends real reports from a real Chromium; these pin the headers.
"""

import pytest
from rest_framework.test import APIClient

from tests.factories import envelope, project_key, python_event, report

APP = "https://app.example.com"


@pytest.fixture
def page_origin(db):
    """A browser page on APP, holding the key of project web that names APP as its origin."""
    key = project_key("web", origins=[APP])
    client = APIClient(HTTP_ORIGIN=APP)
    client.credentials(HTTP_X_API_KEY=key.public_key)
    client.key = key
    return client


def preflight(client, origin, method="POST", path="/api/errors"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-api-key",
    )


def test_preflight_from_an_allowed_origin_permits_posting_a_report(page_origin):
    response = preflight(page_origin, APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert set(response["Access-Control-Allow-Headers"].split(", ")) == {"content-type", "x-api-key", "x-sentry-auth"}
    assert response["Access-Control-Max-Age"] == "86400"


def test_preflight_from_another_origin_is_not_permitted(page_origin):
    response = preflight(page_origin, "https://evil.example.net")

    assert "Access-Control-Allow-Origin" not in response


def test_report_from_an_allowed_origin_is_stored_and_readable_by_the_page(page_origin, api):
    response = page_origin.post("/api/errors", report(project="web"), format="json")

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"Retry-After", "X-Sentry-Rate-Limits"} <= set(response["Access-Control-Expose-Headers"].split(", "))
    assert api.get("/api/errors").json()["total"] == 1


@pytest.mark.parametrize(
    "body, status, detail",
    [
        ({"project": "web"}, 400, "Invalid request: see fields."),
        ({"project": "web", "exception_type": "Error", "message": "x" * 300_000}, 413, "Request body exceeds 262144 bytes."),
    ],
)
def test_refusals_are_readable_by_the_page(page_origin, body, status, detail):
    response = page_origin.post("/api/errors", body, format="json")

    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == APP
    assert response.json()["detail"] == detail


def test_only_the_report_route_answers_other_origins(page_origin, api):
    response = api.get("/api/projects", HTTP_ORIGIN=APP)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_without_allowed_origins_no_page_may_post(anonymous):
    project_key("web")  # a key with no origins: for servers only

    response = preflight(anonymous, APP)

    assert "Access-Control-Allow-Origin" not in response


def test_a_lone_star_allows_every_origin(anonymous):
    project_key("web", origins=["*"])

    response = preflight(anonymous, "https://any.example.org")

    assert response["Access-Control-Allow-Origin"] == "https://any.example.org"


def test_a_key_is_refused_from_an_origin_it_does_not_name(page_origin, api):
    project_key("blog", origins=["https://blog.example.com"])  # so the browser would let it through

    response = page_origin.post("/api/errors", report(), format="json", HTTP_ORIGIN="https://blog.example.com")

    assert response.status_code == 403
    assert response.json() == {"detail": "This key does not accept reports from https://blog.example.com."}
    assert api.get("/api/errors").json()["total"] == 0


def test_sentry_browser_sdk_envelopes_are_readable_by_the_page(page_origin, api):
    body = envelope(python_event())

    response = page_origin.generic(
        "POST", f"/api/{page_origin.key.project_id}/envelope/?sentry_key={page_origin.key.public_key}", body,
        content_type="text/plain;charset=UTF-8",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert api.get("/api/errors").json()["total"] == 1
