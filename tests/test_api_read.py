"""GET /api/errors (filters, paging), GET /api/errors/{id}, resolve/unresolve, projects, health."""

import re

import pytest

from tests.factories import javascript_stack, python_traceback, report

SPEC_LIST_FIELDS = {
    "id", "fingerprint", "project", "environment", "exception_type", "message",
    "count", "first_seen", "last_seen", "resolved",
}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def send(api, **fields):
    return api.post("/api/errors", report(**fields), format="json").json()


def listed(api, query=""):
    response = api.get(f"/api/errors{query}")
    assert response.status_code == 200, response.content
    return response.json()


# What the list and detail add to the spec's fields.
EXTENSION_FIELDS = {
    "source", "culprit", "release", "resolved_in_release", "resolved_in_next_release", "status", "muted_until",
    "muted_until_count", "users", "users_estimated",
}


def test_list_has_spec_shape(api):
    send(api)

    body = listed(api)
    assert set(body) == {"errors", "total", "limit", "offset"}
    assert body["total"] == 1 and body["limit"] == 50 and body["offset"] == 0
    item = body["errors"][0]
    assert SPEC_LIST_FIELDS | EXTENSION_FIELDS == set(item)
    assert ISO_UTC.match(item["first_seen"]) and ISO_UTC.match(item["last_seen"])


def test_list_is_newest_activity_first(api):
    a = send(api, traceback=python_traceback(line=1))["id"]
    b = send(api, traceback=python_traceback(line=2))["id"]
    c = send(api, traceback=python_traceback(line=3))["id"]
    send(api, traceback=python_traceback(line=1))

    assert [e["id"] for e in listed(api)["errors"]] == [a, c, b]


def test_list_filters_by_project_environment_and_source(api):
    send(api, project="shop", environment="prod")
    send(api, project="shop", environment="staging", traceback=python_traceback(line=7))
    send(api, project="blog", environment="prod", exception_type="TypeError", traceback=javascript_stack())

    assert listed(api, "?project=shop")["total"] == 2
    assert listed(api, "?project=shop&environment=staging")["total"] == 1
    assert listed(api, "?environment=prod")["total"] == 2
    assert [e["project"] for e in listed(api, "?source=browser")["errors"]] == ["blog"]
    assert listed(api, "?source=backend")["total"] == 2
    assert listed(api, "?project=nobody")["total"] == 0


def test_list_filters_by_resolved(api):
    open_id = send(api, traceback=python_traceback(line=1))["id"]
    closed_id = send(api, traceback=python_traceback(line=2))["id"]
    api.post(f"/api/errors/{closed_id}/resolve")

    assert [e["id"] for e in listed(api, "?resolved=true")["errors"]] == [closed_id]
    assert [e["id"] for e in listed(api, "?resolved=false")["errors"]] == [open_id]


def test_search_matches_type_or_message_case_insensitively(api):
    # Search reads tracebacks too (tests/test_search.py): this one does not say "invalid input".
    send(api, exception_type="KeyError", message="missing 'user'", traceback=javascript_stack())
    send(api, exception_type="ValueError", message="Invalid Input", traceback=python_traceback(line=2))

    assert [e["exception_type"] for e in listed(api, "?search=keyerr")["errors"]] == ["KeyError"]
    assert [e["exception_type"] for e in listed(api, "?search=invalid%20INPUT")["errors"]] == ["ValueError"]
    assert listed(api, "?search=nothing-like-this")["total"] == 0


def test_limit_and_offset_page_through_results(api):
    ids = [send(api, traceback=python_traceback(line=n))["id"] for n in range(1, 6)]

    page = listed(api, "?limit=2&offset=1")
    assert [e["id"] for e in page["errors"]] == [ids[3], ids[2]]
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert listed(api, "?offset=10")["errors"] == []


def test_limit_above_200_is_clamped(api):
    send(api)

    assert listed(api, "?limit=1000")["limit"] == 200


@pytest.mark.parametrize(
    "query, field",
    [
        ("?limit=abc", "limit"),
        ("?limit=-1", "limit"),
        ("?offset=-5", "offset"),
        ("?offset=1.5", "offset"),
        ("?resolved=yes", "resolved"),
        ("?resolved=", "resolved"),
        ("?project=a%00b", "project"),
        ("?offset=99999999999999999999999", "offset"),
    ],
)
def test_bad_query_parameters_are_400(api, query, field):
    response = api.get(f"/api/errors{query}")

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_detail_has_traceback_and_occurrences_newest_first(api):
    error_id = send(api, user_id="first")["id"]
    send(api, user_id="second")

    body = api.get(f"/api/errors/{error_id}").json()
    assert set(body) == {"error", "occurrences"}
    assert SPEC_LIST_FIELDS | EXTENSION_FIELDS | {"traceback", "environments"} == set(body["error"])
    assert body["error"]["traceback"] == python_traceback()
    assert [o["user_id"] for o in body["occurrences"]] == ["second", "first"]
    occurrence = body["occurrences"][0]
    assert {"id", "timestamp", "request_url", "request_method", "request_headers", "user_id", "extra"} <= set(occurrence)
    assert ISO_UTC.match(occurrence["timestamp"])


@pytest.mark.parametrize("path", ["/api/errors/999", "/api/errors/999/resolve", "/api/errors/999/unresolve"])
def test_unknown_error_id_is_404(api, path):
    response = api.get(path) if path.endswith("999") else api.post(path)

    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_absurdly_large_id_is_404_not_500(api):
    response = api.get("/api/errors/99999999999999999999999999")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_resolve_is_idempotent_and_unresolve_reopens(api):
    error_id = send(api)["id"]

    assert api.post(f"/api/errors/{error_id}/resolve").json() == {"status": "resolved"}
    assert api.post(f"/api/errors/{error_id}/resolve").json() == {"status": "resolved"}
    assert listed(api, "?resolved=true")["total"] == 1
    assert api.post(f"/api/errors/{error_id}/unresolve").json() == {"status": "unresolved"}
    assert listed(api, "?resolved=false")["total"] == 1


def test_resolve_does_not_change_the_count(api):
    error_id = send(api)["id"]
    send(api)
    api.post(f"/api/errors/{error_id}/resolve")

    assert api.get(f"/api/errors/{error_id}").json()["error"]["count"] == 2


def test_projects_are_distinct_and_sorted(api):
    for project, line in [("shop", 1), ("blog", 2), ("shop", 3), ("api", 4)]:
        send(api, project=project, traceback=python_traceback(line=line))

    assert api.get("/api/projects").json() == {"projects": ["api", "blog", "shop"]}


def test_projects_empty_when_nothing_reported(api):
    assert api.get("/api/projects").json() == {"projects": []}


def test_health_answers_ok_without_a_key(anonymous):
    response = anonymous.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "method, path",
    [
        ("delete", "/api/errors"),
        ("put", "/api/errors/1"),
        ("get", "/api/errors/1/resolve"),
        ("post", "/api/projects"),
        ("post", "/health"),
    ],
)
def test_wrong_method_is_405_json(api, method, path):
    send(api)

    response = getattr(api, method)(path)

    assert response.status_code == 405
    assert "not allowed" in response.json()["detail"]


def test_unknown_path_is_404_json(api):
    response = api.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_trailing_slash_is_accepted(api):
    error_id = send(api)["id"]

    assert api.get("/api/errors/").status_code == 200
    assert api.get(f"/api/errors/{error_id}/").status_code == 200
    assert api.get("/api/projects/").status_code == 200


def test_a_group_is_found_under_every_environment_it_was_seen_in(api):
    first = api.post("/api/errors", report(environment="staging"), format="json").json()
    api.post("/api/errors", report(environment="production"), format="json")

    def listed(environment):
        return [e["id"] for e in api.get("/api/errors", {"environment": environment}).json()["errors"]]

    assert listed("staging") == [first["id"]] and listed("production") == [first["id"]]
    assert listed("dev") == []
    detail = api.get(f"/api/errors/{first['id']}").json()["error"]
    assert detail["environment"] == "production"  # the group shows its newest report
    assert detail["environments"] == ["production", "staging"]
