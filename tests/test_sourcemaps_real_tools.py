"""Source maps end to end with the real tools: esbuild bundles tests/fixtures/bundled_app/, the
real sentry-cli (2.58.6 from npm, 3.8.2 from PyPI) injects debug IDs and uploads the maps to a
real server (and so does the toolkit's `sentry` 0.49.0, the uploader of the bundler plugins 11.x),
and the bundles report from Node.js (@sentry/node bundled in) and from headless
Chromium (@sentry/browser bundled in, or README.md's snippet and no SDK). What a user reads
through the API is the original source: `src/cart.js`, at the line of each bug's marker comment.

The tools come from the project's own files (`make test`): tests/node/package-lock.json pins
esbuild, @sentry/browser, @sentry/cli and sentry (`make node-deps`), requirements-dev.txt sentry-cli 3.x.
"""

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import ERROR_TRACKER, REPO, RunningTracker, clean_env, is_report_answer
from tests.sdk_clients import NODE_MODULES, Project
from tests.test_browser_client import readme_snippet

pytestmark = pytest.mark.server

APP = REPO / "tests" / "fixtures" / "bundled_app"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
# sentry-cli 2.x as the bundler plugins pin it (npm), and 3.x (PyPI, into this venv's bin).
SENTRY_CLIS = {
    "2.58.6": NODE_MODULES / ".bin" / "sentry-cli",
    "3.8.2": Path(sys.executable).with_name("sentry-cli"),
}
# The toolkit's JS CLI (getsentry/toolkit): @sentry/bundler-plugins 11.x upload with it, not sentry-cli.
TOOLKIT = NODE_MODULES / ".bin" / "sentry"
TOOLKIT_VERSION = "0.49.0"
ORG = "acme"


def marker_line(marker, source="src/cart.js"):
    """The 1-based line of the app's `source` holding the comment `// <marker>`."""
    lines = (APP / source).read_text().splitlines()
    [number] = [number for number, line in enumerate(lines, 1) if f"// {marker}" in line]
    return number


# What a user should read as each bug's culprit: the original file, line and function.
TOTAL_BUG = {"file": "src/cart.js", "line": marker_line("bug:total"), "function": "totalOf"}
COUPON_BUG = {"file": "src/cart.js", "line": marker_line("bug:coupon"), "function": "applyCoupon"}


def run(command, timeout=60, **kwargs):
    """Run `command`; it must exit 0. Its stdout and stderr are in the failure message."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def build(folder, banner=None):
    """esbuild's bundles of the app, as a site would build them: `node-<hash>.js`,
    `browser-<hash>.js` and `plain-<hash>.js`, minified, each with its `.map`, in folder/app/dist.

    The sources are copied to folder/app/src first, so the maps name them `../src/cart.js`, as
    in a project's own checkout; the SDKs come from tests/node/node_modules (NODE_PATH).
    """
    if not ESBUILD.exists():
        pytest.fail("esbuild is not installed: run `make node-deps`")
    app = folder / "app"
    shutil.copytree(APP / "src", app / "src")
    dist = app / "dist"
    options = ["--bundle", "--minify", "--sourcemap", "--entry-names=[name]-[hash]", f"--outdir={dist}", "--log-level=warning"]
    if banner:
        options.append(f"--banner:js={banner}")
    env = clean_env(NODE_PATH=str(NODE_MODULES))
    run([ESBUILD, "src/node.js", "--platform=node", *options], cwd=app, env=env)
    run([ESBUILD, "src/browser.js", "src/plain.js", *options], cwd=app, env=env)
    return dist


def bundle(dist, name):
    """The file name of entry `name`'s bundle in `dist` (`browser-6XD6SLWW.js`)."""
    [found] = [path.name for path in dist.glob(f"{name}-*.js")]
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The app built once, and rebuilt with a banner: same code, other bytes, other hashes."""
    return {
        "first": build(tmp_path_factory.mktemp("first-build")),
        "rebuilt": build(tmp_path_factory.mktemp("rebuilt"), banner="/* shop, rebuilt */"),
    }


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    server = RunningTracker(tmp_path_factory.mktemp("tracker")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(tracker):
    """A token made as README.md says: `error-tracker createtoken --name ci`, its last line."""
    result = run([ERROR_TRACKER, "createtoken", "--name", "ci"], env=tracker.env, cwd=REPO)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(params=list(SENTRY_CLIS), ids=lambda version: f"sentry-cli-{version}")
def cli(request, tracker, token, tmp_path):
    """sentry-cli of one version, pointed at the tracker with the token (SENTRY_URL, SENTRY_AUTH_TOKEN)."""
    return SentryCli(request.param, tracker, token, tmp_path)


class SentryCli:
    def __init__(self, version, tracker, token, tmp_path):
        self.version, self.tracker, self.tmp_path = version, tracker, tmp_path
        self.binary = SENTRY_CLIS[version]
        if not self.binary.exists():
            pytest.fail(f"{self.binary} is missing: run `make node-deps` and `make install-dev`")
        # HOME in tmp_path: no ~/.sentryclirc of this machine's user is read.
        self.env = clean_env(SENTRY_URL=tracker.url, SENTRY_AUTH_TOKEN=token, HOME=str(tmp_path))
        self.outputs = []
        assert self("--version").stdout.split() == ["sentry-cli", version]

    def __call__(self, *arguments, cwd=None):
        result = run([self.binary, *arguments], env=self.env, cwd=cwd or self.tmp_path, timeout=120)
        self.outputs.append(f"$ sentry-cli {' '.join(map(str, arguments))}\n{result.stdout}{result.stderr}")
        return result

    def release(self, build, project, release, *options, folder="dist"):
        """A copy of `build` (a dist folder) at tmp_path/<folder>, injected and uploaded for `project`
        as README.md says; the copy."""
        dist = self.tmp_path / folder
        shutil.copytree(build, dist)
        self("sourcemaps", "inject", dist)
        self.upload(dist, project, release, *options)
        return dist

    def upload(self, dist, project, release, *options):
        return self(
            "sourcemaps", "upload", "--org", ORG, "--project", project.name, "--release", release, *options, "--wait", dist
        )


class Toolkit:
    """The toolkit's `sentry` CLI as the bundler plugins 11.x use it: `sourcemap upload` injects the
    debug IDs itself (rewriting the files in place) and uploads. Org, project and server come from
    its environment (SENTRY_URL, SENTRY_ORG, SENTRY_PROJECT, SENTRY_AUTH_TOKEN); its config and its
    on-disk cache of API answers (chunk-upload options) live in tmp_path, one per test."""

    version = f"toolkit-{TOOLKIT_VERSION}"

    def __init__(self, tracker, token, tmp_path):
        if not TOOLKIT.exists():
            pytest.fail(f"{TOOLKIT} is missing: run `make node-deps`")
        self.tracker, self.tmp_path, self.outputs = tracker, tmp_path, []
        home = tmp_path / "home"
        self.env = clean_env(
            SENTRY_URL=tracker.url, SENTRY_AUTH_TOKEN=token, SENTRY_ORG=ORG, HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
            SENTRY_CONFIG_DIR=str(home / ".config" / "sentry"), SENTRY_CLI_NO_TELEMETRY="1",
        )
        for variable in ("SENTRY_DSN", "SENTRY_PROJECT", "SENTRY_RELEASE", "SENTRY_TOKEN", "SENTRY_HOST"):
            self.env.pop(variable, None)
        assert self("--version").stdout.split() == [TOOLKIT_VERSION]

    def __call__(self, *arguments, project=None):
        env = {**self.env, "SENTRY_PROJECT": project.name} if project else self.env
        result = run([TOOLKIT, *arguments], env=env, cwd=self.tmp_path, timeout=120)
        self.outputs.append(f"$ sentry {' '.join(map(str, arguments))}\n{result.stdout}{result.stderr}")
        return result

    def release(self, build, project, release, folder="dist"):
        """A copy of `build` at tmp_path/<folder>, injected and uploaded for `project`; the copy."""
        dist = self.tmp_path / folder
        shutil.copytree(build, dist)
        self("sourcemap", "upload", "--release", release, dist, project=project)
        return dist


def diagnosis(tracker, cli):
    """What to show when the tracker did not do as README.md says: the CLI's output and the server's log."""
    log = tracker.log.read_text(errors="replace").splitlines()
    return "\n".join(["--- sentry-cli", *cli.outputs, "--- server.log (last 60 lines)", *log[-60:]])


def wait_for_groups(project, count, total=None, timeout=15):
    """The project's groups once there are `count` of them (and `total` occurrences, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        groups = project.groups()
        occurrences = sum(group["error"]["count"] for group in groups)
        if (len(groups) >= count and (total is None or occurrences >= total)) or time.monotonic() > deadline:
            return groups
        time.sleep(0.2)


def culprits(groups):
    return sorted((group["error"]["culprit"] for group in groups), key=lambda culprit: culprit["line"])


def run_node_bundle(dist, project, release):
    """`node dist/node-<hash>.js DSN RELEASE`: both bugs, each caught and sent by @sentry/node."""
    return run(["node", dist / bundle(dist, "node"), project.dsn, release], cwd=dist, env=clean_env())


# --- 1. Node ----------------------------------------------------------------------------------


def test_node_bundle_reports_both_bugs_at_their_original_lines(cli, tracker, builds):
    project = Project(tracker, f"node-{cli.version}")
    dist = cli.release(builds["first"], project, "1.0.0")

    run_node_bundle(dist, project, "1.0.0")

    groups = wait_for_groups(project, 2)
    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)
    assert [group["error"]["exception_type"] for group in groups] == ["TypeError", "TypeError"]
    assert {group["error"]["release"] for group in groups} == {"1.0.0"}


def test_the_bundler_plugins_uploader_sends_maps_that_put_both_bugs_at_their_original_lines(tracker, token, builds, tmp_path):
    """The toolkit's `sentry sourcemap upload` (what @sentry/webpack-plugin, vite-plugin and
    esbuild-plugin 11.x run): it injects the debug IDs into the built files itself, and its bundle
    differs from sentry-cli's (`_/_/…` entries, a `Sourcemap` header, no top-level debug_id)."""
    toolkit = Toolkit(tracker, token, tmp_path)
    project = Project(tracker, "node-toolkit")
    dist = toolkit.release(builds["first"], project, "1.0.0")
    assert "_sentryDebugIds" in (dist / bundle(dist, "node")).read_text(), diagnosis(tracker, toolkit)

    run_node_bundle(dist, project, "1.0.0")

    groups = wait_for_groups(project, 2)
    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, toolkit)
    assert {(group["error"]["exception_type"], group["error"]["release"]) for group in groups} == {("TypeError", "1.0.0")}


def test_node_bundle_is_found_by_its_debug_id_where_no_url_matches_its_path(cli, tracker, builds):
    """Uploaded as a site serves it (`~/static/node-<hash>.js`) and run from .../dist/: only the
    debug ID @sentry/node sends (debug_meta) names the map. 2.x writes it to the map as
    `debug_id`, 3.x as `debugId`."""
    project = Project(tracker, f"debug-id-{cli.version}")
    dist = cli.release(builds["first"], project, "1.0.0", "--url-prefix", "~/static")
    assert not str(dist / bundle(dist, "node")).endswith(f"/static/{bundle(dist, 'node')}")

    run_node_bundle(dist, project, "1.0.0")

    assert culprits(wait_for_groups(project, 2)) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)


# --- 2 and 3. Browsers: @sentry/browser bundled (debug IDs), README's snippet (URL suffix) ------


class Site:
    """A web site on its own origin: `pages` at their paths, the files of `dist` at /static/."""

    def __init__(self):
        self.dist, self.pages = None, {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path in site.pages:
                    body, kind = site.pages[self.path].encode(), "text/html"
                elif self.path.startswith("/static/") and (site.dist / self.path.removeprefix("/static/")).is_file():
                    body, kind = (site.dist / self.path.removeprefix("/static/")).read_bytes(), "text/javascript"
                else:
                    body, kind = b"", "text/plain"
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def serve(self, dist, page):
        """Serve `dist` at /static/ and `page` at /; the page's URL."""
        self.dist, self.pages = dist, {"/": page}
        return f"{self.origin}/"


@pytest.fixture(scope="module")
def site():
    """One site for the module: a new project's origin takes up to 5 s to reach the server's
    CORS answers (README: keys are looked up once per 5 s), so the browser tests share one."""
    shop = Site()
    yield shop
    shop.close()


def browser_project(tracker, name, site):
    """A project whose key accepts reports from `site`, once the tracker's preflights allow it."""
    project = Project(tracker, name, "--origin", site.origin)
    preflight = {
        "Origin": site.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key",
    }
    deadline = time.monotonic() + 10
    while True:
        answer = requests.options(f"{tracker.url}/api/errors", headers=preflight, timeout=5)
        if answer.headers.get("Access-Control-Allow-Origin") == site.origin:
            return project
        assert time.monotonic() < deadline, f"the tracker's preflight never allowed {site.origin}: {answer.headers}"
        time.sleep(0.25)


BUTTONS = "<button id=total>Total</button><button id=coupon>Coupon</button>"


def click_both_and_wait_for_reports(page, url):
    """Open `url`, click each bug's button, and return the tracker's answers to the two reports."""
    page.goto(url)
    answers = []
    for button in ("#total", "#coupon"):
        with page.expect_response(is_report_answer, timeout=10_000) as answer:
            page.click(button)
        answers.append(answer.value.status)
    return answers


def report_from_the_sdk_bundle(cli, tracker, builds, page, site, name):
    """The browser bundle (with @sentry/browser) injected and uploaded for a new project `name`
    with `--url-prefix '~/static'`, served at /static/ by a site on another origin whose page
    sets the DSN and release 1.0.0; both buttons clicked. The project's groups."""
    project = browser_project(tracker, name, site)
    dist = cli.release(builds["first"], project, "1.0.0", "--url-prefix", "~/static")
    url = site.serve(dist, (
        f"<!doctype html><html><head><script>window.SHOP = {{dsn: \"{project.dsn}\", release: \"1.0.0\"}};</script>"
        f"</head><body>{BUTTONS}<script src=/static/{bundle(dist, 'browser')}></script></body></html>"
    ))

    answers = click_both_and_wait_for_reports(page, url)

    assert answers == [200, 200]
    return wait_for_groups(project, 2)


@pytest.mark.browser
def test_browser_bundle_with_the_sentry_sdk_reports_both_bugs_at_their_original_lines(cli, tracker, builds, page, site):
    groups = report_from_the_sdk_bundle(cli, tracker, builds, page, site, f"browser-{cli.version}")

    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)
    assert {(group["error"]["exception_type"], group["error"]["release"]) for group in groups} == {("TypeError", "1.0.0")}


@pytest.mark.browser
@pytest.mark.parametrize("cli", ["3.8.2"], indirect=True, ids=lambda version: f"sentry-cli-{version}")
def test_a_source_mapped_browser_report_is_still_from_the_browser(cli, tracker, builds, page, site):
    """README.md: `source` is `browser` when the traceback is a JavaScript stack with http(s)://
    frames. The SDK's frames are page URLs; that their maps point at src/cart.js changes nothing."""
    groups = report_from_the_sdk_bundle(cli, tracker, builds, page, site, "browser-source")

    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)
    assert [group["error"]["source"] for group in groups] == ["browser", "browser"]


@pytest.mark.browser
def test_readme_snippet_with_a_plain_bundle_reports_both_bugs_at_their_original_lines(cli, tracker, builds, page, site):
    project = browser_project(tracker, f"snippet-{cli.version}", site)
    dist = cli.release(builds["first"], project, "1.0.0", "--url-prefix", "~/static")
    snippet = readme_snippet(tracker.url, project.key)
    assert 'var RELEASE = "";' in snippet, "README.md's snippet no longer sets RELEASE"
    snippet = snippet.replace('var RELEASE = "";', 'var RELEASE = "1.0.0";')
    url = site.serve(dist, (
        f"<!doctype html><html><head>{snippet}</head>"
        f"<body>{BUTTONS}<script src=/static/{bundle(dist, 'plain')}></script></body></html>"
    ))

    answers = click_both_and_wait_for_reports(page, url)

    assert answers == [201, 201]
    groups = wait_for_groups(project, 2)
    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)
    assert {(group["error"]["source"], group["error"]["release"]) for group in groups} == {("browser", "1.0.0")}


# --- 4. A rebuild: new hashes, new debug IDs, the same groups ----------------------------------


def test_a_rebuild_with_new_hashes_reports_into_the_same_two_groups(cli, tracker, builds):
    project = Project(tracker, f"rebuild-{cli.version}")
    first = cli.release(builds["first"], project, "1.0.0", folder="first")
    rebuilt = cli.release(builds["rebuilt"], project, "1.0.1", folder="rebuilt")
    assert bundle(first, "node") != bundle(rebuilt, "node")

    run_node_bundle(first, project, "1.0.0")
    wait_for_groups(project, 2)
    run_node_bundle(rebuilt, project, "1.0.1")

    groups = wait_for_groups(project, 2, total=4)
    assert culprits(groups) == [TOTAL_BUG, COUPON_BUG], diagnosis(tracker, cli)
    assert [group["error"]["count"] for group in groups] == [2, 2]
    assert {group["error"]["release"] for group in groups} == {"1.0.1"}


# --- 5. The same upload twice ------------------------------------------------------------------


def test_the_same_bundle_uploaded_twice_is_stored_once(cli, tracker, builds):
    project = Project(tracker, f"twice-{cli.version}")
    dist = cli.release(builds["first"], project, "1.0.0")

    def stored():
        with closing(sqlite3.connect(tracker.database)) as database:
            return database.execute(
                "SELECT b.checksum, b.file_count, (SELECT count(*) FROM bundle_files f WHERE f.bundle_id = b.id)"
                " FROM artifact_bundles b JOIN projects p ON p.id = b.project_id WHERE p.name = ?",
                (project.name,),
            ).fetchall()

    once = stored()
    cli.upload(dist, project, "1.0.0")

    assert len(once) == 1, diagnosis(tracker, cli)
    assert stored() == once, diagnosis(tracker, cli)
