"""Every /api/ route needs the X-API-Key; /health does not."""

import pytest
from rest_framework.test import APIClient

from tests.factories import project_key, report

ROUTES = [
    ("post", "/api/errors"),
    ("get", "/api/errors"),
    ("get", "/api/errors/1"),
    ("post", "/api/errors/1/resolve"),
    ("post", "/api/errors/1/unresolve"),
    ("get", "/api/projects"),
]


@pytest.fixture
def error_id(api):
    return api.post("/api/errors", report(), format="json").json()["id"]


@pytest.mark.parametrize("method, path", ROUTES)
def test_missing_key_is_401(anonymous, error_id, method, path):
    response = getattr(anonymous, method)(path.replace("/1", f"/{error_id}"), report(), format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing X-API-Key header."}


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("key", ["wrong-key", "test-api-key-but-longer", "", "TEST-API-KEY"])
def test_wrong_key_is_401(db, error_id, method, path, key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)

    response = getattr(client, method)(path.replace("/1", f"/{error_id}"), report(), format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


def test_rejected_report_is_not_stored(anonymous, api):
    anonymous.post("/api/errors", report(), format="json")

    assert api.get("/api/errors").json()["total"] == 0


def test_resolve_without_key_leaves_error_open(anonymous, api, error_id):
    anonymous.post(f"/api/errors/{error_id}/resolve")

    assert api.get(f"/api/errors/{error_id}").json()["error"]["resolved"] is False


def test_wrong_keys_count_against_the_rate_limit(db, settings, one_rate_limit_window):
    settings.RATE_LIMIT = "3/m"
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="guessing")

    statuses = [client.get("/api/projects").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


@pytest.fixture
def key_client(db):
    """A client holding a key of project my-app, as a web page or an SDK would."""
    key = project_key("my-app")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key.public_key)
    client.key = key
    return client


def test_a_project_key_submits_reports_to_its_project(api, key_client):
    created = key_client.post("/api/errors", report(), format="json")
    again = key_client.post("/api/errors", report(project=...), format="json")

    assert created.status_code == 201
    assert again.json()["count"] == 2  # no `project`: the key's own
    assert api.get(f"/api/errors/{created.json()['id']}").json()["error"]["project"] == "my-app"


def test_a_project_key_cannot_write_another_project(api, key_client):
    project_key("other-app")

    response = key_client.post("/api/errors", report(project="other-app"), format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "This key can only submit reports to its own project."}
    assert api.get("/api/errors").json()["total"] == 0


@pytest.mark.parametrize("method, path", ROUTES[1:])
def test_a_project_key_cannot_read_or_triage(api, key_client, error_id, method, path):
    response = getattr(key_client, method)(path.replace("/1", f"/{error_id}"))

    assert response.status_code == 403
    assert response.json() == {"detail": "This key can only submit reports (POST /api/errors and its project's Sentry routes)."}
    assert api.get(f"/api/errors/{error_id}").json()["error"]["resolved"] is False


def test_a_deactivated_key_is_refused_like_an_unknown_one(api, key_client):
    from projects.auth import forget_cached_keys

    key_client.key.is_active = False
    key_client.key.save()
    forget_cached_keys()

    response = key_client.post("/api/errors", report(), format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


def test_the_master_key_creates_the_project_on_first_report(api):
    from projects.models import Project

    api.post("/api/errors", report(project="brand-new"), format="json")

    assert Project.objects.filter(name="brand-new").exists()
    assert api.get("/api/projects").json() == {"projects": ["brand-new"]}
