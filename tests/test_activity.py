"""Who changed a group's status and when: through the API, the admin, and a report reopening it."""

import pytest

from tests.factories import python_traceback, report


def send(api, **fields):
    return api.post("/api/errors", report(**fields), format="json").json()


def activity(api, error_id):
    response = api.get(f"/api/errors/{error_id}/activity")
    assert response.status_code == 200
    return response.json()["activity"]


def test_resolves_reopens_and_regressions_are_recorded_newest_first(api):
    error_id = send(api, release="1.0.0")["id"]
    api.post(f"/api/errors/{error_id}/resolve", {"in_release": "1.0.1"}, format="json")
    send(api, release="1.0.2")
    api.post(f"/api/errors/{error_id}/resolve")
    api.post(f"/api/errors/{error_id}/unresolve")

    changes = activity(api, error_id)

    assert [(c["kind"], c["actor"], c["detail"]) for c in changes] == [
        ("unresolved", "API key", ""),
        ("resolved", "API key", ""),
        ("regression", "system", "1.0.2"),
        ("resolved_in_release", "API key", "1.0.1"),
    ]
    assert all(c["at"].endswith("Z") for c in changes)


def test_a_report_from_an_older_release_is_no_regression(api):
    error_id = send(api, release="1.0.0")["id"]
    api.post(f"/api/errors/{error_id}/resolve", {"in_release": "1.0.1"}, format="json")

    send(api, release="1.0.0")

    assert [c["kind"] for c in activity(api, error_id)] == ["resolved_in_release"]


def test_an_unknown_group_has_no_activity(api):
    assert api.get("/api/errors/999/activity").status_code == 404


def test_a_project_key_cannot_read_activity(db, api):
    from rest_framework.test import APIClient

    from tests.factories import project_key

    error_id = send(api)["id"]
    key = project_key("my-app")

    response = APIClient(HTTP_X_API_KEY=key.public_key).get(f"/api/errors/{error_id}/activity")

    assert response.status_code == 403


def test_the_group_page_shows_who_resolved_it_in_the_admin(api, admin_client):
    error_id = send(api)["id"]
    admin_client.post(f"/admin/errors/error/{error_id}/resolve/")
    api.post(f"/api/errors/{error_id}/unresolve")

    page = admin_client.get(f"/admin/errors/error/{error_id}/change/").content.decode()

    assert "reopened by a person by API key" in page
    assert "resolved by root (admin)" in page


def test_bulk_actions_are_recorded_for_each_group(api, admin_client):
    ids = [send(api, traceback=python_traceback(line=n))["id"] for n in (1, 2)]

    admin_client.post("/admin/errors/error/", {"action": "resolve_selected", "_selected_action": ids})

    assert [activity(api, pk)[0]["actor"] for pk in ids] == ["root (admin)"] * 2


@pytest.fixture
def admin_client(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client
