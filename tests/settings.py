"""Test settings: the real settings module, with the required variables given test values."""

import os
import tempfile

os.environ.setdefault("API_KEY", "test-api-key")
os.environ.setdefault("DATABASE_PATH", os.path.join(tempfile.mkdtemp(prefix="error-tracker-test-"), "errors.db"))

from tracker.settings import *  # noqa: E402,F401,F403
