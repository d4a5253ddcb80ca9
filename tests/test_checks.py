"""Start-up checks for settings that are valid alone but wrong together."""

import pytest
from django.core import checks

from tests.conftest import RunningTracker


def warnings():
    return {message.id for message in checks.run_checks(tags=[checks.Tags.security]) if message.id.startswith("errors.")}


def test_allowed_origins_without_an_ingest_key_warn(settings):
    settings.CORS_ALLOWED_ORIGINS, settings.INGEST_API_KEYS = ["https://app.example.com"], []

    assert warnings() == {"errors.W001"}


def test_allowed_origins_with_an_ingest_key_do_not_warn(settings):
    settings.CORS_ALLOWED_ORIGINS, settings.INGEST_API_KEYS = ["https://app.example.com"], ["0f9d2c4be3a1"]

    assert warnings() == set()


@pytest.mark.parametrize("key, warns", [("0f9d2c4be3a1", False), ("web_KEY_2", False), ("a-b", True), ("kéy", True)])
def test_ingest_keys_a_dsn_cannot_hold_warn(settings, key, warns):
    settings.INGEST_API_KEYS = [key]

    assert warnings() == ({"errors.W002"} if warns else set())


@pytest.mark.server
def test_the_warning_is_printed_at_start_without_the_key(tmp_path):
    env = {"CORS_ALLOWED_ORIGINS": "https://app.example.com", "INGEST_API_KEYS": "page-key-1"}
    server = RunningTracker(tmp_path, env).start()
    server.stop()

    log = server.log.read_text()
    assert "errors.W002" in log and "INGEST_API_KEYS entry 1" in log
    assert "page-key-1" not in log
