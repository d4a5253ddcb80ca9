"""Releases: recorded from reports, and resolutions that wait for the release with the fix."""

import pytest

from releases.models import Release
from releases.versions import is_older, semver_key
from tests.factories import python_traceback, report


def send(api, release, line=42):
    response = api.post("/api/errors", report(release=release, traceback=python_traceback(line=line)), format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def group(api, error_id):
    return api.get(f"/api/errors/{error_id}").json()


def resolve(api, error_id, **body):
    return api.post(f"/api/errors/{error_id}/resolve", body, format="json")


def test_a_reports_release_is_kept_on_the_occurrence_the_group_and_as_a_release(api):
    error_id = send(api, "shop@1.0.0")["id"]
    send(api, "shop@1.0.1")

    detail = group(api, error_id)
    assert detail["error"]["release"] == "shop@1.0.1"
    assert [o["release"] for o in detail["occurrences"]] == ["shop@1.0.1", "shop@1.0.0"]
    releases = Release.objects.filter(project__name="my-app").order_by("first_seen")
    assert [r.version for r in releases] == ["shop@1.0.0", "shop@1.0.1"]
    assert all(r.first_seen is not None and r.last_seen >= r.first_seen for r in releases)


def test_any_release_string_is_kept_as_sent(api):
    error_id = send(api, "undefined")["id"]

    assert group(api, error_id)["error"]["release"] == "undefined"
    assert Release.objects.filter(version="undefined").count() == 1


def test_resolved_in_a_release_reopens_only_for_that_release_or_newer(api):
    error_id = send(api, "1.0.0")["id"]
    answer = resolve(api, error_id, in_release="1.0.1")
    assert answer.json() == {"status": "resolved", "in_release": "1.0.1", "in_next_release": False}

    assert send(api, "1.0.0")["count"] == 2
    assert group(api, error_id)["error"]["resolved"] is True
    send(api, "1.0.2")
    assert group(api, error_id)["error"]["resolved"] is False
    assert group(api, error_id)["error"]["resolved_in_release"] == ""


def test_a_report_of_the_fixed_release_itself_reopens(api):
    error_id = send(api, "1.0.0")["id"]
    resolve(api, error_id, in_release="1.0.1")

    send(api, "1.0.1")

    assert group(api, error_id)["error"]["resolved"] is False


def test_resolved_in_the_next_release_waits_for_a_newer_one(api):
    error_id = send(api, "2.3.0")["id"]
    send(api, "2.2.9")
    answer = resolve(api, error_id, in_next_release=True)
    assert answer.json() == {"status": "resolved", "in_release": "2.3.0", "in_next_release": True}

    send(api, "2.3.0")
    send(api, "2.2.9")
    assert group(api, error_id)["error"]["resolved"] is True
    send(api, "2.4.0-rc.1")
    assert group(api, error_id)["error"]["resolved"] is False


def test_versions_that_are_not_semantic_order_by_first_seen(api):
    error_id = send(api, "deploy-blue")["id"]
    send(api, "deploy-green")
    resolve(api, error_id, in_release="deploy-green")

    send(api, "deploy-blue")
    assert group(api, error_id)["error"]["resolved"] is True
    send(api, "deploy-red")  # first seen now: newer than deploy-green
    assert group(api, error_id)["error"]["resolved"] is False


def test_plain_resolve_reopens_on_any_report(api):
    error_id = send(api, "1.0.0")["id"]
    assert resolve(api, error_id).json() == {"status": "resolved"}

    send(api, "0.9.0")

    assert group(api, error_id)["error"]["resolved"] is False


def test_a_report_without_a_release_reopens_a_group_resolved_in_one(api):
    error_id = send(api, "1.0.0")["id"]
    resolve(api, error_id, in_release="1.0.1")

    send(api, "")

    assert group(api, error_id)["error"]["resolved"] is False


def test_resolving_in_the_next_release_needs_a_release(api):
    error_id = send(api, "")["id"]

    response = resolve(api, error_id, in_next_release=True)

    assert response.status_code == 400
    assert "has named a release yet" in response.json()["fields"]["in_next_release"][0]
    assert group(api, error_id)["error"]["resolved"] is False


def test_a_release_and_the_next_release_at_once_is_refused(api):
    error_id = send(api, "1.0.0")["id"]

    response = resolve(api, error_id, in_release="1.0.1", in_next_release=True)

    assert response.status_code == 400


def test_unresolve_forgets_the_release(api):
    error_id = send(api, "1.0.0")["id"]
    resolve(api, error_id, in_release="1.0.1")

    api.post(f"/api/errors/{error_id}/unresolve")

    error = group(api, error_id)["error"]
    assert (error["resolved"], error["resolved_in_release"], error["resolved_in_next_release"]) == (False, "", False)


def test_a_release_longer_than_the_column_is_refused(api):
    response = api.post("/api/errors", report(release="1" * 251), format="json")

    assert response.status_code == 400
    assert "release" in response.json()["fields"]


@pytest.mark.parametrize(
    "older, newer",
    [
        ("1.0.0", "1.0.1"), ("1.9.0", "1.10.0"), ("1.0.0-rc.1", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("shop@1.2.0", "shop@1.10.0"),
        ("v2.0", "v2.0.1"), ("1.0.0+build.9", "1.0.1+build.1"),
    ],
)
def test_semantic_versions_order_as_semver_says(older, newer):
    assert is_older(older, newer)
    assert not is_older(newer, older)


def test_build_metadata_does_not_order_and_text_is_not_a_version():
    assert semver_key("1.0.0+a") == semver_key("1.0.0+b")
    assert semver_key("undefined") is None and semver_key("1") is None
    assert not is_older("abc", "abc")
    seen = {"abc": 1, "def": 2}.get
    assert is_older("abc", "def", seen) and not is_older("def", "abc", seen)
    assert is_older("abc", "never-seen", seen)
