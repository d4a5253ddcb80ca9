"""What one key, one request and one project may store, through HTTP."""

import gzip
import hashlib
import json

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from errors.models import Error
from tests.factories import envelope, project_key, python_event, python_traceback, report


def own(**fields):
    """A report without `project`: a project key's report is its own project's."""
    return report(project=..., **fields)


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key.public_key)
    return client


def test_a_projects_events_a_minute_are_capped_with_sentrys_headers(db, api, one_rate_limit_window):
    from projects.auth import forget_cached_keys
    from projects.models import Project

    key = project_key("shop")
    Project.objects.filter(pk=key.project_id).update(events_per_minute=3)
    forget_cached_keys()
    client = key_client(key)

    statuses = [client.post("/api/errors", own(), format="json").status_code for _ in range(4)]
    refused = client.post("/api/errors", own(), format="json")

    assert statuses == [201, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Quota exceeded: this project may send 3 events a minute.")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["X-Sentry-Rate-Limits"] == f"{refused['Retry-After']}::project"
    assert Error.objects.aggregate(total=Sum("count"))["total"] == 3


def test_a_keys_own_limit_applies_before_its_projects(db, one_rate_limit_window):
    from projects.models import ProjectKey

    key = project_key("shop")
    ProjectKey.objects.filter(pk=key.pk).update(events_per_minute=2)
    from projects.auth import forget_cached_keys

    forget_cached_keys()
    other = project_key("shop")  # the same project's other key is not held back
    client, other_client = key_client(key), key_client(other)

    statuses = [client.post("/api/errors", own(), format="json").status_code for _ in range(3)]

    assert statuses == [201, 200, 429]
    assert client.post("/api/errors", own(), format="json")["X-Sentry-Rate-Limits"].endswith("::key")
    assert other_client.post("/api/errors", own(), format="json").status_code == 200


def test_the_master_keys_reports_count_against_the_project_too(api, one_rate_limit_window):
    from projects.models import Project

    api.post("/api/errors", report(project="shop"), format="json")
    Project.objects.filter(name="shop").update(events_per_minute=2)
    from projects.auth import forget_cached_keys

    forget_cached_keys()

    statuses = [api.post("/api/errors", report(project="shop"), format="json").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_flood_of_new_fingerprints_past_the_hourly_cap_is_counted_into_one_overflow_group(db, api, settings):
    settings.RATE_LIMIT = "100000/m"
    key = project_key("shop")  # the default cap: 1,000 new groups an hour
    client = key_client(key)

    statuses = {client.post("/api/errors", own(traceback=python_traceback(line=line)), format="json").status_code
                for line in range(1, 2001)}
    again = client.post("/api/errors", own(traceback=python_traceback(line=1)), format="json")

    assert statuses <= {200, 201}
    assert Error.objects.count() == 1001
    overflow = Error.objects.get(exception_type="Overflow")
    assert (overflow.count, overflow.source) == (1000, "overflow")
    assert "limit of 1000 new groups an hour" in overflow.message
    assert again.json()["count"] == 2  # a known group keeps counting
    assert Error.objects.aggregate(total=Sum("count"))["total"] == 2001
    assert api.get("/api/errors?source=overflow").json()["errors"][0]["exception_type"] == "Overflow"


def test_no_report_can_pose_as_the_overflow_group(db, api):
    """Its fingerprint is not any `project:type:file:line`, not even of a report typed Overflow."""
    project_key("shop", new_groups_per_hour=1)
    for line in (1, 2):
        api.post("/api/errors", report(project="shop", traceback=python_traceback(line=line)), format="json")

    overflow = Error.objects.get(exception_type="Overflow")

    assert overflow.fingerprint != hashlib.md5(b"shop:Overflow::").hexdigest()
    assert overflow.count == 1


def test_a_10000_event_envelope_stores_nothing(db, api):
    """As a hostile client packs it: tiny events, gzip-compressed well under the body cap."""
    key = project_key("shop")
    items = b"".join(b'{"type":"event"}\n{"message":"m%d"}\n' % n for n in range(10_000))
    body = gzip.compress(b"{}\n" + items)
    assert len(body) < 256 * 1024

    response = APIClient(HTTP_X_SENTRY_AUTH=f"Sentry sentry_key={key.public_key}").generic(
        "POST", f"/api/{key.project_id}/envelope/", body, content_type="application/x-sentry-envelope",
        HTTP_CONTENT_ENCODING="gzip",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "An envelope carries at most one event (Sentry's rule); this one has 10000."
    assert api.get("/api/errors").json()["total"] == 0


def test_a_long_message_is_cut_not_refused(api):
    response = api.post("/api/errors", report(message="m" * 1_040_000), format="json")

    assert response.status_code == 413  # past the spec's 256 KB body first
    created = api.post("/api/errors", report(message="m" * 200_000), format="json")
    detail = api.get(f"/api/errors/{created.json()['id']}").json()
    assert len(detail["error"]["message"]) == 8192
    assert len(detail["occurrences"][0]["message"]) == 8192


def test_a_project_name_with_a_colon_is_refused(api):
    """`web` plus type `admin:ValueError` would otherwise spell the key of project `web:admin`."""
    response = api.post("/api/errors", report(project="web:admin"), format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"project": ["A project name may not contain ':'."]}


def test_an_envelope_whose_dsn_is_not_a_url_is_refused_not_a_500(db):
    body = b'{"dsn": "http://["}\n{"type": "event"}\n{}\n'

    response = APIClient().generic("POST", "/api/1/envelope/", body, content_type="application/x-sentry-envelope")

    assert response.status_code == 401


@pytest.mark.parametrize("route", ["/api/errors", "envelope"])
def test_an_unknown_project_number_or_key_stores_nothing(db, api, route):
    from projects.models import Project

    client = APIClient(HTTP_X_SENTRY_AUTH="Sentry sentry_key=" + "a" * 32, HTTP_X_API_KEY="a" * 32)
    path = "/api/987/envelope/" if route == "envelope" else route
    body = envelope(python_event()) if route == "envelope" else report()

    response = client.generic("POST", path, body if isinstance(body, bytes) else json.dumps(body), content_type="application/json")

    assert response.status_code == 401
    assert not Project.objects.exists()
    assert api.get("/api/errors").json()["total"] == 0
