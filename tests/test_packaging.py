"""The wheel is the product: built from the repository and installed into a fresh venv, it runs.

Pins what only a real install can show: pyproject.toml declares every runtime dependency (pip
fetches them from the package index, nothing comes from the project's own venv), the wheel ships
the templates (the alert email renders from tracker/templates) and the static files (the admin's
CSS), and the installed `error-tracker` script migrates, serves, sends an alert through Postmark's
API and stops cleanly on SIGTERM, run from an empty directory, so that nothing can be read from
the source tree.

The wheel is built from a copy of the repository without its build output (build/, *.egg-info):
setuptools packs everything left in build/lib, so an in-place build would also ship files a
previous build left there and could hide a file that pyproject.toml no longer includes.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import API_KEY, REPO, clean_env, free_port
from tests.factories import report
from tests.postmark import FakePostmark

TOKEN = "postmark-server-token-123"
NOT_SOURCE = ("build", "*.egg-info", ".git", ".venv", "data", "__pycache__", ".pytest_cache", ".hypothesis")


def run(command, timeout=300, **kwargs):
    """Run `command`; fail with its output if it does not exit 0."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def build_wheel(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source])
    (wheel,) = wheels.glob("error_tracker-*.whl")
    return wheel


def fresh_venv_with(wheel, venv):
    """A venv of the base interpreter (not the project's venv), with `wheel` and its dependencies."""
    base_python = getattr(sys, "_base_executable", None) or Path(sys.base_prefix) / "bin" / "python3"
    run([base_python, "-m", "venv", venv])
    run([venv / "bin" / "pip", "install", "--disable-pip-version-check", "-q", wheel], timeout=500)
    return venv / "bin"


def wait_until(condition, timeout, what, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout}s; server log:\n{log.read_text()}")


def wait_for_health(process, url, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"error-tracker exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"error-tracker did not answer /health in {timeout}s:\n{log.read_text()}")


@pytest.mark.server
@pytest.mark.timeout(600)
def test_the_built_wheel_installs_and_sends_a_real_alert(tmp_path):
    bin_dir = fresh_venv_with(build_wheel(tmp_path), tmp_path / "venv")
    workdir = tmp_path / "empty"
    workdir.mkdir()
    installed = run([bin_dir / "python", "-c", "import tracker; print(tracker.__file__)"], cwd=workdir).stdout
    assert installed.startswith(str(tmp_path / "venv")), installed

    with FakePostmark(TOKEN) as postmark:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = clean_env(
            API_KEY=API_KEY,
            DATABASE_PATH=str(tmp_path / "data" / "errors.db"),
            HOST="127.0.0.1",
            PORT=str(port),
            RATE_LIMIT="1000/m",
            POSTMARK_API_TOKEN=TOKEN,
            POSTMARK_FROM_EMAIL="tracker@example.com",
            ALERT_EMAILS="oncall@example.com",
            POSTMARK_API_URL=postmark.url,
        )
        env.pop("PYTHONPATH", None)
        log = tmp_path / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [bin_dir / "error-tracker"], cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_health(process, url, log)

            response = requests.post(f"{url}/api/errors", json=report(), headers={"X-API-Key": API_KEY}, timeout=5)
            assert response.status_code == 201, response.text
            wait_until(lambda: postmark.messages, 20, "no alert email arrived", log)
            (email,) = postmark.messages
            assert email["Subject"] == "[my-app/prod] ValueError: invalid input"
            assert "/admin/errors/error/" in email["TextBody"]  # tracker/templates/alerts/email.txt rendered

            assert requests.get(f"{url}/admin/login/", timeout=5).status_code == 200
            assert requests.get(f"{url}/static/errors/admin.css", timeout=5).status_code == 200

            process.send_signal(signal.SIGTERM)
            assert process.wait(40) == 0, log.read_text()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
