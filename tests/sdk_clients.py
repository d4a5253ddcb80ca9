"""Real Sentry clients in their own processes, and what the tracker stored from them.

A Python script runs with this venv's interpreter (sentry-sdk, raven); a Node script runs with
`node` and the @sentry/node that tests/node/package-lock.json pins (`make node-deps` installs it).
"""

import itertools
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO, RunningTracker, clean_env

NODE_MODULES = REPO / "tests" / "node" / "node_modules"


def run_python(script, source, *args, cwd=None, timeout=60):
    """Write `source` to `script` and run it; it must exit 0."""
    script.write_text(textwrap.dedent(source))
    result = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd or script.parent, env=clean_env(), capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


def run_node(script, source, *args, timeout=60):
    """Write `source` to `script` and run it with `node`, `require("@sentry/node")` resolving to
    tests/node/node_modules; it must exit 0 (the script awaits Sentry.close before it ends)."""
    if not (NODE_MODULES / "@sentry" / "node").is_dir():
        pytest.fail("@sentry/node is not installed: run `make node-deps`")
    script.write_text(textwrap.dedent(source))
    result = subprocess.run(
        ["node", str(script), *args],
        cwd=script.parent, env=clean_env(NODE_PATH=str(NODE_MODULES)), capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


class Project:
    """A project made with `error-tracker createproject`, and its groups as the API lists them."""

    def __init__(self, tracker, name, *options):
        self.tracker, self.name = tracker, name
        self.dsn = tracker.createproject(name, *options)
        # http://<key>@127.0.0.1:<port>/<number>
        self.key = self.dsn.split("//", 1)[1].split("@", 1)[0]
        self.number = self.dsn.rsplit("/", 1)[1]

    def list(self, **query):
        """The rows of GET /api/errors for this project (and `query`), newest first."""
        answer = self.tracker.session().get(
            f"{self.tracker.url}/api/errors", params={"project": self.name, **query}, timeout=5
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["errors"]

    def groups(self, **query):
        """GET /api/errors/{id} of each listed group, newest first."""
        session = self.tracker.session()
        return [
            session.get(f"{self.tracker.url}/api/errors/{row['id']}", timeout=5).json() for row in self.list(**query)
        ]

    def errors(self, **query):
        """The `error` of each group, newest first."""
        return [detail["error"] for detail in self.groups(**query)]


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    """One server for a module's tests; each test reports into projects of its own."""
    server = RunningTracker(tmp_path_factory.mktemp("tracker")).start()
    yield server
    server.stop()


@pytest.fixture
def new_project(tracker, request):
    """new_project(*createproject options): a project of this test's own."""
    numbers = itertools.count(1)

    def make(*options):
        return Project(tracker, f"{request.node.name[:80]}-{next(numbers)}", *options)

    return make


def line_of(source, text):
    """The number of the first line of `source` (as run_python and run_node write it) containing `text`."""
    return next(number for number, line in enumerate(textwrap.dedent(source).splitlines(), 1) if text in line)
