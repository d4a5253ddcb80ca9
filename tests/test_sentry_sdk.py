"""The official Python SDK (sentry-sdk), in its own process, reporting to the real server over
HTTP through a DSN: what a team switching its existing Sentry set-up over would do."""

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import RunningTracker, clean_env

pytestmark = pytest.mark.server


APP = '''
import logging, sys
import sentry_sdk

sentry_sdk.init(
    dsn=sys.argv[1], environment="staging", release="shop@1.2.0", shutdown_timeout=10, _experiments=EXPERIMENTS
)
sentry_sdk.set_user({"id": 42})


def charge(amount):
    return 100 / amount


try:
    charge(0)
except ZeroDivisionError as exc:
    sentry_sdk.capture_exception(exc)
for card in (1111, 2222):
    logging.getLogger("payments").error("card %s declined", card)
sentry_sdk.flush(timeout=10)
if "--crash" in sys.argv:
    charge(0)
'''
# The lines of APP that raise, as Python numbers them.
CHARGE_LINE = APP.splitlines().index("    return 100 / amount") + 1


@pytest.fixture
def tracker(tmp_path):
    server = RunningTracker(tmp_path).start()
    server.dsn = server.createproject("shop")
    yield server
    server.stop()


def run_app(tmp_path, dsn, experiments=None, *args):
    script = tmp_path / "shop_app.py"
    script.write_text(textwrap.dedent(APP).replace("EXPERIMENTS", repr(experiments or {})))
    result = subprocess.run(
        [sys.executable, str(script), dsn, *args], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    return script, result


def groups(tracker):
    return {detail["error"]["exception_type"]: detail for detail in tracker.error_details()}


@pytest.mark.parametrize(
    "experiments",
    [{}, {"transport_compression_algo": "gzip"}, {"transport_compression_level": 0}],
    ids=["brotli", "gzip", "uncompressed"],
)
def test_captured_exception_and_logged_errors_arrive_grouped(tmp_path, tracker, experiments):
    script, result = run_app(tmp_path, tracker.dsn, experiments)

    assert result.returncode == 0, result.stderr
    stored = groups(tracker)
    assert set(stored) == {"ZeroDivisionError", "card %s declined"}
    error, occurrence = stored["ZeroDivisionError"]["error"], stored["ZeroDivisionError"]["occurrences"][0]
    assert (error["project"], error["environment"], error["message"]) == ("shop", "staging", "division by zero")
    assert error["culprit"] == {"file": str(script), "line": CHARGE_LINE, "function": "charge"}
    assert occurrence["user_id"] == "42"
    assert (occurrence["release"], error["release"]) == ("shop@1.2.0",) * 2
    declined = stored["card %s declined"]["error"]
    assert (declined["count"], declined["message"]) == (2, "card 2222 declined")


def test_uncaught_crash_is_reported_before_the_process_exits(tmp_path, tracker):
    _, result = run_app(tmp_path, tracker.dsn, None, "--crash")

    assert result.returncode == 1
    crash = groups(tracker)["ZeroDivisionError"]
    assert crash["error"]["count"] == 2  # the captured one, then the crash: same line, one group


def test_a_wrong_dsn_key_stores_nothing(tmp_path, tracker):
    number = tracker.dsn.rsplit("/", 1)[1]
    _, result = run_app(tmp_path, f"http://{'0' * 32}@127.0.0.1:{tracker.port}/{number}")

    assert result.returncode == 0
    assert groups(tracker) == {}
    assert f"rejected 401 POST /api/{number}/envelope/" in tracker.log.read_text()
