import os

from django.db import connection


def test_suite_runs_on_the_engine_it_was_asked_for(db):
    expected = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"

    assert connection.vendor == expected
