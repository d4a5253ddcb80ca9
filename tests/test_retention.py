"""purge_resolved and the daily retention job."""

import sqlite3
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from errors.models import Error, Occurrence
from maintenance.jobs import claim_lease
from maintenance.retention import purge_resolved
from tests.conftest import RunningTracker
from tests.factories import python_traceback, report


def make_group(api, line, *, resolved, age_days, reports=1, project="my-app"):
    body = report(project=project, traceback=python_traceback(line=line))
    error_id = api.post("/api/errors", body, format="json").json()["id"]
    for _ in range(reports - 1):
        api.post("/api/errors", body, format="json")
    if resolved:
        api.post(f"/api/errors/{error_id}/resolve")
    Error.objects.filter(pk=error_id).update(last_seen=timezone.now() - timedelta(days=age_days))
    return error_id


def purge(*args):
    out = StringIO()
    call_command("purge_resolved", *args, stdout=out)
    return out.getvalue().strip()


def test_purge_deletes_old_resolved_groups_and_their_occurrences(api):
    old = make_group(api, 1, resolved=True, age_days=91, reports=3)
    recent = make_group(api, 2, resolved=True, age_days=10)
    old_open = make_group(api, 3, resolved=False, age_days=400)

    assert purge() == "Deleted 1 resolved error group(s) and 3 occurrence(s) last seen more than 90 day(s) ago."

    assert set(Error.objects.values_list("pk", flat=True)) == {recent, old_open}
    assert not Occurrence.objects.filter(error_id=old).exists()
    assert api.get(f"/api/errors/{old}").status_code == 404


def test_days_option_and_dry_run(api):
    make_group(api, 1, resolved=True, age_days=20, reports=2)

    assert purge("--days", "30") == "Deleted 0 resolved error group(s) and 0 occurrence(s) last seen more than 30 day(s) ago."
    assert purge("--days", "7", "--dry-run") == "Would delete 1 resolved error group(s) and 2 occurrence(s) last seen more than 7 day(s) ago."
    assert Error.objects.count() == 1
    assert purge("--days", "7").startswith("Deleted 1 resolved error group(s) and 2 occurrence(s)")


def test_retention_days_setting_is_the_default(api, settings):
    settings.RETENTION_DAYS = 5
    make_group(api, 1, resolved=True, age_days=6)

    assert "Deleted 1 resolved" in purge()


def test_a_project_may_keep_its_resolved_errors_longer_or_shorter(api):
    from projects.models import Project

    kept_long = make_group(api, 1, resolved=True, age_days=100, project="audit")
    gone_early = make_group(api, 2, resolved=True, age_days=10, project="noisy")
    default = make_group(api, 3, resolved=True, age_days=100, project="shop")
    Project.objects.filter(name="audit").update(retention_days=365)
    Project.objects.filter(name="noisy").update(retention_days=7)

    output = purge()

    assert output == (
        "Deleted 2 resolved error group(s) and 2 occurrence(s) last seen more than 90 day(s) ago "
        "(2 project(s) with days of their own)."
    )
    assert set(Error.objects.values_list("pk", flat=True)) == {kept_long}
    assert not Error.objects.filter(pk__in=[gone_early, default]).exists()


def test_purge_works_in_batches(api):
    for line in range(1, 8):
        make_group(api, line, resolved=True, age_days=100)

    purged = purge_resolved(90, batch_size=3)

    assert (purged.groups, purged.occurrences) == (7, 7)
    assert Error.objects.count() == 0


def test_unresolved_errors_are_never_purged(api):
    make_group(api, 1, resolved=False, age_days=10_000)

    assert purge_resolved(0).groups == 0


def test_lease_is_claimed_once_per_interval(db):
    now = timezone.now()

    assert claim_lease("retention", timedelta(hours=24), now) is True
    assert claim_lease("retention", timedelta(hours=24), now) is False
    assert claim_lease("retention", timedelta(hours=24), now + timedelta(hours=23)) is False
    assert claim_lease("retention", timedelta(hours=24), now + timedelta(hours=24)) is True


@pytest.mark.server
def test_running_service_purges_by_itself(tmp_path):
    server = RunningTracker(tmp_path, {"RETENTION_FIRST_RUN_DELAY": "0"})
    server.start()
    try:
        session = server.session()
        old_id = session.post(f"{server.url}/api/errors", json=report(traceback=python_traceback(line=1))).json()["id"]
        keep_id = session.post(f"{server.url}/api/errors", json=report(traceback=python_traceback(line=2))).json()["id"]
        session.post(f"{server.url}/api/errors/{old_id}/resolve")
        with sqlite3.connect(server.database) as db:
            db.execute("UPDATE errors SET last_seen = datetime('now', '-100 days') WHERE id = ?", (old_id,))
            db.execute("DELETE FROM job_leases")
        deadline = time.monotonic() + 15
        while session.get(f"{server.url}/api/errors/{old_id}").status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.2)

        assert session.get(f"{server.url}/api/errors/{old_id}").status_code == 404
        assert session.get(f"{server.url}/api/errors/{keep_id}").status_code == 200
        with sqlite3.connect(server.database) as db:
            next_run = db.execute("SELECT next_run_at FROM job_leases WHERE name = 'retention'").fetchone()[0]
        assert next_run > time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 - 3600))
    finally:
        server.stop()
