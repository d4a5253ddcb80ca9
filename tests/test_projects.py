"""Projects and keys as a person sets them up: the createproject command and the admin."""

import subprocess

import pytest
from django.contrib.auth.models import User

from projects.models import Project, ProjectKey
from tests.conftest import ERROR_TRACKER, REPO, clean_env


def createproject(tmp_path, *args):
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), PUBLIC_URL="https://errors.example.com")
    subprocess.run([str(ERROR_TRACKER), "migrate"], env=env, cwd=REPO, capture_output=True, timeout=120, check=True)
    return subprocess.run(
        [str(ERROR_TRACKER), "createproject", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_createproject_prints_a_dsn_last_and_a_second_run_adds_a_key(tmp_path):
    first = createproject(tmp_path, "shop", "--origin", "https://shop.example.com", "--rate-limit", "120")
    second = createproject(tmp_path, "shop")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    dsn_one, dsn_two = first.stdout.strip().splitlines()[-1], second.stdout.strip().splitlines()[-1]
    assert dsn_one.startswith("https://") and dsn_one.endswith("@errors.example.com/1")
    assert dsn_two.endswith("@errors.example.com/1") and dsn_two != dsn_one
    key = dsn_one.split("//")[1].split("@")[0]
    assert len(key) == 32 and all(c in "0123456789abcdef" for c in key)
    assert "Existing project 'shop'" in second.stdout


@pytest.mark.parametrize(
    "args, message",
    [(["shop", "--origin", "shop.example.com"], "is not an origin"), (["shop", "--rate-limit", "0"], "at least 1")],
)
def test_createproject_refuses_bad_options(tmp_path, args, message):
    result = createproject(tmp_path, *args)

    assert result.returncode != 0
    assert message in result.stderr


# The project page's list of source-map bundles (releases/admin.py), empty here.
NO_BUNDLES = {
    "artifact_bundles-TOTAL_FORMS": "0", "artifact_bundles-INITIAL_FORMS": "0",
    "artifact_bundles-MIN_NUM_FORMS": "0", "artifact_bundles-MAX_NUM_FORMS": "1000",
}
# Its alert channels (tests/test_alert_channels.py), none here.
NO_CHANNELS = {
    "alert_channels-TOTAL_FORMS": "0", "alert_channels-INITIAL_FORMS": "0",
    "alert_channels-MIN_NUM_FORMS": "0", "alert_channels-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_a_project_made_in_the_admin_has_a_key_whose_dsn_is_shown(admin_client, settings):
    settings.PUBLIC_URL = "https://errors.example.com"
    form = {
        "name": "web shop", "slug": "web-shop", "events_per_minute": "10000", "new_groups_per_hour": "1000",
        "fingerprint_strategy": "", "retention_days": "", "alert_emails": "", "alert_environments": "",
        "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0", "keys-MIN_NUM_FORMS": "0", "keys-MAX_NUM_FORMS": "1000",
        **NO_BUNDLES, **NO_CHANNELS,
    }

    response = admin_client.post("/admin/projects/project/add/", form)

    assert response.status_code == 302
    project = Project.objects.get(name="web shop")
    [key] = ProjectKey.objects.filter(project=project)
    page = admin_client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert f"https://{key.public_key}@errors.example.com/{project.pk}" in page


def test_a_key_deactivated_in_the_admin_stops_working(admin_client):
    from rest_framework.test import APIClient

    from tests.factories import project_key, report

    key = project_key("shop")
    project = key.project
    form = {
        "name": "shop", "slug": project.slug, "events_per_minute": "10000", "new_groups_per_hour": "1000",
        "fingerprint_strategy": "", "retention_days": "", "alert_emails": "", "alert_environments": "",
        "keys-TOTAL_FORMS": "1", "keys-INITIAL_FORMS": "1", "keys-MIN_NUM_FORMS": "0", "keys-MAX_NUM_FORMS": "1000",
        **NO_BUNDLES, **NO_CHANNELS,
        "keys-0-id": str(key.pk), "keys-0-project": str(project.pk), "keys-0-label": "web",
        "keys-0-allowed_origins": "", "keys-0-events_per_minute": "",
    }

    assert admin_client.post(f"/admin/projects/project/{project.pk}/change/", form).status_code == 302

    response = APIClient(HTTP_X_API_KEY=key.public_key).post("/api/errors", report(project=...), format="json")
    assert ProjectKey.objects.get(pk=key.pk).is_active is False
    assert response.status_code == 401
