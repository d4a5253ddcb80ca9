"""Mute and snooze, status, events over time and users affected, through the API."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from errors.models import Activity, Alert, Error
from ingest.pipeline import report_for
from ingest.store import record_error
from maintenance.mutes import unmute_expired
from maintenance.retention import purge_old_buckets
from projects.auth import Caller, project_settings
from tests.factories import python_traceback, report


def send(api, **fields):
    response = api.post("/api/errors", report(**fields), format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def detail(api, error_id):
    return api.get(f"/api/errors/{error_id}").json()["error"]


def listed_ids(api, query=""):
    return [item["id"] for item in api.get(f"/api/errors{query}").json()["errors"]]


def activity_kinds(api, error_id):
    return [(a["kind"], a["actor"]) for a in api.get(f"/api/errors/{error_id}/activity").json()["activity"]]


@pytest.fixture
def alerting(settings):
    """Alerts are queued (not sent: the outbox is what this file checks)."""
    settings.POSTMARK_API_TOKEN = "token"
    settings.POSTMARK_FROM_EMAIL = "tracker@example.com"
    settings.ALERT_EMAILS = ["oncall@example.com"]


def alert_kinds(error_id):
    return list(Alert.objects.filter(error_id=error_id, channel=None).order_by("id").values_list("kind", flat=True))


# --- status and mute -----------------------------------------------------------------------


def test_every_group_says_its_status_beside_resolved(api):
    open_id = send(api)["id"]
    resolved_id = send(api, traceback=python_traceback(line=7))["id"]
    api.post(f"/api/errors/{resolved_id}/resolve")

    assert (detail(api, open_id)["status"], detail(api, open_id)["resolved"]) == ("unresolved", False)
    assert (detail(api, resolved_id)["status"], detail(api, resolved_id)["resolved"]) == ("resolved", True)


def test_a_muted_group_is_hidden_from_the_default_list_and_found_by_status(api):
    muted_id = send(api)["id"]
    shown_id = send(api, traceback=python_traceback(line=7))["id"]

    response = api.post(f"/api/errors/{muted_id}/mute")

    assert response.status_code == 200
    assert response.json() == {"status": "muted", "muted_until": None, "muted_until_count": None}
    assert listed_ids(api) == [shown_id]
    assert listed_ids(api, "?status=muted") == [muted_id]
    assert listed_ids(api, "?status=unresolved") == [shown_id]
    assert sorted(listed_ids(api, "?status=all")) == sorted([muted_id, shown_id])
    item = detail(api, muted_id)
    assert (item["status"], item["resolved"]) == ("muted", False)


def test_a_muted_group_counts_reports_but_alerts_nobody(api, alerting):
    error_id = send(api)["id"]
    api.post(f"/api/errors/{error_id}/resolve")
    api.post(f"/api/errors/{error_id}/mute")

    counted = send(api)

    assert counted["count"] == 2
    assert detail(api, error_id)["status"] == "muted"
    assert alert_kinds(error_id) == ["new"]


def test_muting_a_resolved_group_unresolves_it_and_resolving_ends_the_mute(api):
    error_id = send(api)["id"]
    api.post(f"/api/errors/{error_id}/resolve")

    api.post(f"/api/errors/{error_id}/mute")
    assert detail(api, error_id)["status"] == "muted"

    api.post(f"/api/errors/{error_id}/resolve")
    assert detail(api, error_id)["status"] == "resolved"
    assert detail(api, error_id)["muted_until"] is None


def test_a_mute_for_n_events_ends_at_the_nth_with_an_unmuted_alert(api, alerting):
    error_id = send(api)["id"]
    response = api.post(f"/api/errors/{error_id}/mute", {"events": 3}, format="json")
    assert response.json()["muted_until_count"] == 4

    send(api)
    send(api)
    assert detail(api, error_id)["status"] == "muted"
    assert alert_kinds(error_id) == ["new"]

    send(api)

    assert detail(api, error_id)["status"] == "unresolved"
    assert alert_kinds(error_id) == ["new", "unmuted"]
    assert activity_kinds(api, error_id)[:2] == [("unmuted", "system"), ("muted", "API key")]
    send(api)
    assert alert_kinds(error_id) == ["new", "unmuted"]


def test_a_mute_until_a_time_ends_then_without_a_report(api, alerting):
    error_id = send(api)["id"]
    until = timezone.now() + timedelta(hours=1)
    response = api.post(f"/api/errors/{error_id}/mute", {"until": until.isoformat()}, format="json")
    assert response.status_code == 200

    assert unmute_expired(now=until - timedelta(seconds=1)) == 0
    assert detail(api, error_id)["status"] == "muted"

    assert unmute_expired(now=until + timedelta(seconds=1)) == 1

    assert detail(api, error_id)["status"] == "unresolved"
    assert alert_kinds(error_id) == ["new", "unmuted"]
    assert activity_kinds(api, error_id)[0] == ("unmuted", "system")
    assert unmute_expired(now=until + timedelta(seconds=2)) == 0


def test_the_first_report_after_a_mute_ran_out_ends_it(api, alerting):
    error_id = send(api)["id"]
    api.post(f"/api/errors/{error_id}/mute", {"until": (timezone.now() + timedelta(hours=1)).isoformat()}, format="json")
    Error.objects.filter(pk=error_id).update(muted_until=timezone.now() - timedelta(seconds=1))

    send(api)

    assert detail(api, error_id)["status"] == "unresolved"
    assert alert_kinds(error_id) == ["new", "unmuted"]
    assert unmute_expired() == 0


def test_unmute_by_a_person_is_recorded_and_alerts_nobody(api, alerting):
    error_id = send(api)["id"]
    api.post(f"/api/errors/{error_id}/mute")

    response = api.post(f"/api/errors/{error_id}/unmute")

    assert response.json() == {"status": "unresolved"}
    assert activity_kinds(api, error_id)[:2] == [("unmuted", "API key"), ("muted", "API key")]
    assert alert_kinds(error_id) == ["new"]
    api.post(f"/api/errors/{error_id}/unmute")
    assert len(activity_kinds(api, error_id)) == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({"until": "yesterday"}, "until"),
        ({"until": "2020-01-01T00:00:00Z"}, "until"),
        ({"events": 0}, "events"),
        ({"events": "many"}, "events"),
        ({"events": 2, "until": "2999-01-01T00:00:00Z"}, "non_field_errors"),
    ],
)
def test_a_mute_that_cannot_be_kept_is_refused_saying_why(api, body, field):
    error_id = send(api)["id"]

    response = api.post(f"/api/errors/{error_id}/mute", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert detail(api, error_id)["status"] == "unresolved"


def test_a_project_key_can_neither_mute_nor_read_stats(db, api):
    from rest_framework.test import APIClient

    from tests.factories import project_key

    error_id = send(api)["id"]
    client = APIClient(HTTP_X_API_KEY=project_key("my-app").public_key)

    assert client.post(f"/api/errors/{error_id}/mute").status_code == 403
    assert client.get(f"/api/errors/{error_id}/stats").status_code == 403
    assert detail(api, error_id)["status"] == "unresolved"


def test_a_report_in_flight_when_the_group_was_resolved_does_not_reopen_it(api):
    error_id = send(api)["id"]
    arrived = timezone.now()
    api.post(f"/api/errors/{error_id}/resolve")
    in_flight = report_for(Caller(), report())

    recorded = record_error(in_flight, project_settings("my-app"), received_at=arrived)

    assert recorded.count == 2 and not recorded.reopened
    assert detail(api, error_id)["status"] == "resolved"
    send(api)
    assert detail(api, error_id)["status"] == "unresolved"
    assert activity_kinds(api, error_id)[0] == ("regression", "system")


# --- events over time ----------------------------------------------------------------------


def test_stats_count_reports_per_hour_oldest_first_with_empty_buckets(api):
    error_id = send(api)["id"]
    send(api)
    send(api)

    buckets = api.get(f"/api/errors/{error_id}/stats?period=24h").json()["buckets"]

    assert len(buckets) == 24
    assert [b["count"] for b in buckets] == [0] * 23 + [3]
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert buckets[-1]["start"] == hour.isoformat().replace("+00:00", "Z")
    assert buckets[0]["start"] == (hour - timedelta(hours=23)).isoformat().replace("+00:00", "Z")


def test_stats_for_14_days_are_daily(api):
    error_id = send(api)["id"]
    send(api)

    buckets = api.get(f"/api/errors/{error_id}/stats?period=14d").json()["buckets"]

    assert len(buckets) == 14
    assert [b["count"] for b in buckets] == [0] * 13 + [2]
    assert buckets[-1]["start"].endswith("T00:00:00Z")


def test_stats_default_to_24_hours_and_refuse_an_unknown_period(api):
    error_id = send(api)["id"]

    assert len(api.get(f"/api/errors/{error_id}/stats").json()["buckets"]) == 24
    response = api.get(f"/api/errors/{error_id}/stats?period=7y")
    assert response.status_code == 400
    assert "period" in response.json()["fields"]
    assert api.get("/api/errors/99999/stats").status_code == 404


def test_stats_keep_reports_of_other_groups_and_hours_apart(api):
    error_id = send(api)["id"]
    other_id = send(api, traceback=python_traceback(line=7))["id"]
    Error.objects.get(pk=error_id).buckets.filter(span="h").update(start=timezone.now().replace(
        minute=0, second=0, microsecond=0) - timedelta(hours=5))
    send(api)

    counts = [b["count"] for b in api.get(f"/api/errors/{error_id}/stats").json()["buckets"]]
    others = [b["count"] for b in api.get(f"/api/errors/{other_id}/stats").json()["buckets"]]

    assert counts[-6] == 1 and counts[-1] == 1 and sum(counts) == 2
    assert sum(others) == 1


def test_old_buckets_are_purged_by_retention(api):
    error_id = send(api)["id"]
    error = Error.objects.get(pk=error_id)
    now = timezone.now()

    assert purge_old_buckets(now + timedelta(days=13)) == 0
    assert purge_old_buckets(now + timedelta(days=15)) == 1
    assert list(error.buckets.values_list("span", flat=True)) == ["d"]
    assert purge_old_buckets(now + timedelta(days=91)) == 1


# --- users affected ------------------------------------------------------------------------


def test_users_are_counted_once_each_in_list_and_detail(api):
    error_id = send(api, user_id="ann")["id"]
    for user in ["bob", "ann", "cy", "bob", ""]:
        send(api, user_id=user)

    item = detail(api, error_id)
    listed = api.get("/api/errors").json()["errors"][0]

    assert (item["users"], item["users_estimated"]) == (3, False)
    assert (listed["users"], listed["users_estimated"]) == (3, False)


def record_for_user(user_id):
    """Many reports at once: straight into the write path, past the API's rate limit."""
    return record_error(report_for(Caller(), report(user_id=user_id)), project_settings("my-app"))


@override_settings(USERS_EXACT_UP_TO=200)
def test_past_the_bound_users_are_an_estimate_that_says_so(api):
    error_id = record_for_user("user-0").error_id
    for n in range(1, 3000):
        record_for_user(f"user-{n}")
        if n % 3 == 0:
            record_for_user(f"user-{n // 2}")

    item = detail(api, error_id)

    assert item["users_estimated"] is True
    assert 3000 * 0.8 <= item["users"] <= 3000 * 1.2
    assert Error.objects.get(pk=error_id).user_hashes.count() <= 200


@override_settings(USERS_EXACT_UP_TO=200)
def test_up_to_the_bound_the_count_is_exact(api):
    error_id = record_for_user("user-0").error_id
    for n in range(1, 200):
        record_for_user(f"user-{n}")
        record_for_user(f"user-{n // 2}")

    assert (detail(api, error_id)["users"], detail(api, error_id)["users_estimated"]) == (200, False)


def test_regression_activity_still_comes_with_a_reopened_mute_free_group(api):
    error_id = send(api)["id"]
    api.post(f"/api/errors/{error_id}/mute")
    api.post(f"/api/errors/{error_id}/resolve")

    send(api)

    assert detail(api, error_id)["status"] == "unresolved"
    assert [kind for kind, _ in activity_kinds(api, error_id)] == [
        Activity.REGRESSION, Activity.RESOLVED, Activity.MUTED,
    ]
