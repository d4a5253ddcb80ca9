import os
import signal
import socket
import subprocess
import sys
import time
import types
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright
from rest_framework.test import APIClient

API_KEY = "test-api-key"
REPO = Path(__file__).resolve().parent.parent
ERROR_TRACKER = Path(sys.executable).with_name("error-tracker")


@pytest.fixture(autouse=True)
def fresh_rate_limit_counters():
    """Each test starts with no requests counted against its client IP, and no key or upload
    remembered."""
    from django.core.cache import cache

    from ingest.store import known_environments
    from ingest.users import known_users
    from projects.auth import forget_cached_keys
    from releases.lookup import forget_uploads
    from releases.recording import forget_noted_releases

    cache.clear()
    forget_cached_keys()
    forget_uploads()
    forget_noted_releases()
    known_environments.clear()
    known_users.clear()


@pytest.fixture
def one_rate_limit_window(monkeypatch):
    """Stop django-ratelimit's clock, so a test's requests cannot straddle two fixed windows.

    Its windows are fixed, not sliding: requests that cross a window's end start counting from
    zero again. Server tests wait for a fresh window instead (tests/test_guards.fresh_window).
    """
    import django_ratelimit.core

    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture
def api(db):
    """An HTTP client through the full Django stack, holding the API key."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=API_KEY)
    return client


@pytest.fixture
def anonymous(db):
    return APIClient()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides):
    """This process's environment without the test settings, plus `overrides`."""
    test_only = (
        "DJANGO_SETTINGS_MODULE", "API_KEY", "DATABASE_PATH", "DATABASE_URL", "TEST_DATABASE_URL", "CACHE_URL", "SECRET_KEY",
    )
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(overrides)
    return env


class RunningTracker:
    """A real `error-tracker` process on its own port and its own SQLite file."""

    def __init__(self, data_dir, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = Path(data_dir) / "errors.db"
        self.log = Path(data_dir) / "server.log"
        # Load tests send far more than 100 requests a minute; the rate-limit tests set their own.
        defaults = {"RATE_LIMIT": "1000000/m", "PUBLIC_URL": self.url}
        self.env = clean_env(
            API_KEY=API_KEY,
            DATABASE_PATH=str(self.database),
            HOST="127.0.0.1",
            PORT=str(self.port),
            **{**defaults, **(env or {})},
        )
        self.process = None

    def start(self, timeout=20):
        self.process = subprocess.Popen(
            [str(ERROR_TRACKER)],
            env=self.env,
            cwd=REPO,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"error-tracker exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"error-tracker did not answer /health in {timeout}s:\n{self.log.read_text()}")

    def stop(self, timeout=40):
        """SIGTERM, then wait; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def kill(self):
        """kill -9 of the whole instance: gunicorn's master and its workers."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def session(self):
        session = requests.Session()
        session.headers["X-API-Key"] = API_KEY
        return session

    def createproject(self, name, *options):
        """`error-tracker createproject` against this server's database; the DSN it prints last."""
        result = subprocess.run(
            [str(ERROR_TRACKER), "createproject", name, *options],
            env=self.env, cwd=REPO, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def error_details(self):
        """GET /api/errors/{id} of every stored group, newest first, as a user would read them."""
        session = self.session()
        errors = session.get(f"{self.url}/api/errors", timeout=5).json()["errors"]
        return [session.get(f"{self.url}/api/errors/{error['id']}", timeout=5).json() for error in errors]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (/usr/bin/chromium, installed by `make test`), driven by Playwright."""
    args = [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own browser context (no cookies or storage shared between tests)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


# The superuser the admin browser tests log in as (the server creates it from these variables).
ADMIN = {"ADMIN_USERNAME": "triager", "ADMIN_PASSWORD": "correct horse battery", "ADMIN_EMAIL": "t@example.com"}


@contextmanager
def admin_browser_page(browser, server, width=1400):
    """A page of a fresh browser context, logged in to `server`'s admin as ADMIN."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.goto("/admin/")
    page.fill("#id_username", ADMIN["ADMIN_USERNAME"])
    page.fill("#id_password", ADMIN["ADMIN_PASSWORD"])
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("error-tracker")
    try:
        yield page
    finally:
        context.close()


def is_report_answer(response):
    """Whether a page's network response is the tracker's answer to a report it sent."""
    return response.request.method == "POST" and ("/api/errors" in response.url or "/envelope/" in response.url)


@pytest.fixture
def tracker_server(tmp_path):
    server = RunningTracker(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    import uuid

    import psycopg

    base = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/error_tracker")
    server, _, _name = base.rpartition("/")
    name = f"et_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url():
    """The local Redis, in a database emptied for this test."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()
