"""Test settings: the real settings module, with the required variables given test values."""

import os
import tempfile

os.environ.setdefault("API_KEY", "test-api-key")
# `make test` runs the suite a second time with TEST_DATABASE_URL=postgres://… (the scale-out mode).
if os.environ.get("TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    os.environ.setdefault("SECRET_KEY", "test-secret-key-shared-by-instances")
os.environ.setdefault("DATABASE_PATH", os.path.join(tempfile.mkdtemp(prefix="error-tracker-test-"), "errors.db"))

from tracker.settings import *  # noqa: E402,F401,F403
