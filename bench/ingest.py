"""Ingestion benchmark: figures and ratios against a baseline measured in the same run.

Run: `make bench` (or `.venv/bin/python bench/ingest.py`; `--help` for options).

For each deployment it starts real `error-tracker` processes, drives `POST /api/errors` with wrk
over 100 realistic bodies (~2 KB, 10-frame Python tracebacks, 100 distinct groups), and, in the
same server, a trivial Django view that parses the same JSON and answers 201 without touching
the database: the framework's ceiling. It prints req/s, p50/p99 latency, non-2xx answers, the
service's peak RSS, ingest throughput as a share of the ceiling, and checks that what the
database stored matches what was acknowledged. On SQLite it also sends the same 100 errors as
sentry-python would, gzip-compressed envelopes to a project's envelope route. It also times parsing a
256 KB traceback and the admin error list over 100,000 groups, and runs an error storm
(bench/storm.py).
"""

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ERROR_TRACKER = Path(sys.executable).with_name("error-tracker")
API_KEY = "bench-api-key"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

LUA = r"""
local bodies = {%(bodies)s}
local i = 0
wrk.method = "POST"
%(headers)s

request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "%(path)s", nil, bodies[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "socket_errors": %%d, "p50_us": %%d, "p99_us": %%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


# --- workload ------------------------------------------------------------------------------


def make_bodies(count=100):
    """100 reports of 100 groups: 10-frame tracebacks whose innermost app frame differs."""
    bodies = []
    for n in range(count):
        frames = []
        for depth in range(9):
            frames.append(
                f'  File "/srv/shop/.venv/lib/python3.12/site-packages/django/core/handlers/layer{depth}.py", '
                f"line {100 + depth * 7}, in inner_{depth}\n    response = get_response(request)\n"
            )
        frames.append(
            f'  File "/srv/shop/app/views/module_{n % 20}.py", line {10 + n}, in handler_{n}\n'
            f"    total = order.items[{n}].price * quantity\n"
        )
        traceback = "Traceback (most recent call last):\n" + "".join(frames) + f"ValueError: invalid input {n}\n"
        body = {
            "project": f"shop-{n % 5}",
            "environment": "production",
            "exception_type": "ValueError",
            "message": f"invalid input {n}: quantity must be positive",
            "traceback": traceback,
            "request_url": f"/api/orders/{n}?page=2",
            "request_method": "POST",
            "request_headers": {"Accept": "application/json", "User-Agent": "bench/1.0", "Authorization": "Bearer x"},
            "user_id": f"user-{n}",
            "extra": {"request_id": uuid.UUID(int=n).hex, "release": "2026.11.28"},
        }
        bodies.append(json.dumps(body))
    return bodies


def make_envelopes(bodies):
    """The same 100 errors as sentry-python sends them: events in gzip-compressed envelopes."""
    import gzip

    from sentry_sdk.envelope import Envelope

    envelopes = []
    for n, body in enumerate(map(json.loads, bodies)):
        frames = [
            {"abs_path": path, "filename": path.rsplit("/", 1)[-1], "lineno": int(line), "function": function,
             "context_line": code.strip(), "in_app": "site-packages" not in path}
            for path, line, function, code in re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n(.*)\n', body["traceback"])
        ]
        event_id = uuid.UUID(int=n).hex
        envelope = Envelope(headers={"event_id": event_id})
        envelope.add_event({
            "event_id": event_id,
            "platform": "python",
            "level": "error",
            "environment": body["environment"],
            "release": body["extra"]["release"],
            "exception": {"values": [{"type": body["exception_type"], "value": body["message"],
                                      "stacktrace": {"frames": frames}}]},
            "request": {"url": body["request_url"], "method": body["request_method"], "headers": body["request_headers"]},
            "user": {"id": body["user_id"]},
            "extra": {"request_id": body["extra"]["request_id"]},
            "sdk": {"name": "sentry.python", "version": "2.75.0"},
        })
        envelopes.append(gzip.compress(envelope.serialize()))
    return envelopes


def write_lua(directory, bodies, path, headers=None):
    headers = headers or {"Content-Type": "application/json", "X-API-Key": API_KEY}
    script = Path(directory) / f"{re.sub(r'[^a-z0-9]+', '_', path.strip('/'))}.lua"
    quoted = ",\n".join(_lua_string(body) for body in bodies)
    lines = "\n".join(f'wrk.headers["{name}"] = {_lua_string(value)}' for name, value in headers.items())
    script.write_text(LUA % {"bodies": quoted, "headers": lines, "path": path})
    return script


def _lua_string(text):
    """A Lua string literal of `text` (str or bytes): printable ASCII as is, every other byte escaped."""
    data = text.encode() if isinstance(text, str) else text
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}" for b in data) + '"'


# --- processes -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    """A real `error-tracker` process; `code` is the checkout it runs (a baseline's worktree)."""

    def __init__(self, data_dir, env, code=REPO):
        self.code = code
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "server.log"
        keep = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE")}
        self.env = {
            **keep,
            "API_KEY": API_KEY,
            "DATABASE_PATH": str(data_dir / "errors.db"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "RATE_LIMIT": "100000000/m",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(code),
            **env,
        }
        self.process = subprocess.Popen(
            [str(ERROR_TRACKER)], env=self.env, cwd=code, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()}")

    def pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [self.process.pid]
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def rss_bytes(self):
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) * 1024
        return total

    def cpu_seconds(self):
        """User + system CPU time used so far by the instance's processes."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def manage(self, *args):
        """`error-tracker <command>` against this instance's database; its output."""
        result = subprocess.run(
            [str(ERROR_TRACKER), *args], env=self.env, cwd=self.code, capture_output=True, text=True, timeout=120, check=True
        )
        return result.stdout

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)


@contextmanager
def peak_rss(instances):
    """Sample the instances' summed RSS every 100 ms; yields a dict filled with the peak."""
    result = {"peak": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            result["peak"] = max(result["peak"], sum(i.rss_bytes() for i in instances))
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def run_wrk(url, script, connections, duration):
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 60,
    )
    line = next((l for l in result.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("RESULT "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def run_parallel_wrk(urls, script_path, connections, duration):
    """One wrk per instance, connections split between them; figures summed."""
    results = [None] * len(urls)

    def one(index):
        results[index] = run_wrk(urls[index], script_path, max(connections // len(urls), 1), duration)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": sum(r["requests"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "socket_errors": sum(r["socket_errors"] for r in results),
        "rps": sum(r["rps"] for r in results),
        "p50_us": max(r["p50_us"] for r in results),
        "p99_us": max(r["p99_us"] for r in results),
    }


# --- deployments ---------------------------------------------------------------------------


def stored_sqlite(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT coalesce(sum(count), 0) FROM errors").fetchone()[0]


def stored_postgres(url):
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute("SELECT coalesce(sum(count), 0) FROM errors").fetchone()[0]


@contextmanager
def postgres_database():
    import psycopg
    import redis

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure_route(instances, script, connections, duration):
    """wrk figures for one route, plus the service's peak RSS and CPU time per request."""
    urls = [i.url for i in instances]
    cpu_before = sum(i.cpu_seconds() for i in instances)
    with peak_rss(instances) as rss:
        result = run_parallel_wrk(urls, script, connections, duration)
    result["cpu_us"] = (sum(i.cpu_seconds() for i in instances) - cpu_before) / result["requests"] * 1e6
    result["peak_rss"] = rss["peak"]
    return result


def prepare_projects(instance, bodies):
    """The bodies' projects, and one for the envelopes (with its DSN), with quotas far past
    what the benchmark sends: it measures throughput, not the quotas. Returns that DSN."""
    dsn = instance.manage("createproject", "bench-sentry").strip().splitlines()[-1]
    for name in sorted({json.loads(body)["project"] for body in bodies}):
        instance.manage("createproject", name)
    instance.manage(
        "shell", "-c",
        "from projects.models import Project; Project.objects.update(events_per_minute=10**9, new_groups_per_hour=10**9)",
    )
    return dsn


def measure_deployment(label, instances, stored, scratch, connections_list, duration, sentry=False):
    """Trivial view, dry run and ingest at each connection count; with `sentry`, also the same
    errors as gzip-compressed Sentry envelopes."""
    bodies = make_bodies()
    dsn = prepare_projects(instances[0], bodies)
    key, number = dsn.split("//", 1)[1].split("@", 1)[0], dsn.rsplit("/", 1)[1]
    envelope_script = write_lua(
        scratch, make_envelopes(bodies), f"/api/{number}/envelope/",
        {"Content-Type": "application/x-sentry-envelope", "Content-Encoding": "gzip",
         "X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"},
    )
    ingest_script = write_lua(scratch, bodies, "/api/errors")
    trivial_script = write_lua(scratch, bodies, "/bench/trivial")
    # The same DRF view up to the write: rate limit, key, parsing, validation, grouping.
    dry_run_script = write_lua(scratch, bodies, "/api/errors?dry_run=1")
    urls = [i.url for i in instances]
    rows = []
    for connections in connections_list:
        run_parallel_wrk(urls, trivial_script, connections, 3)  # warm-up
        trivial = measure_route(instances, trivial_script, connections, duration)
        dry_run = measure_route(instances, dry_run_script, connections, duration)
        # wrk leaves requests in flight: let them finish, or they fill the shedding queue.
        time.sleep(1)
        before = stored()
        ingest = measure_route(instances, ingest_script, connections, duration)
        time.sleep(1)  # let requests in flight at wrk's cutoff finish
        stored_now = stored() - before
        accepted = ingest["requests"] - ingest["non2xx"]
        rows.append({
            "deployment": label,
            "connections": connections,
            "trivial_rps": trivial["rps"],
            "trivial_p99_ms": trivial["p99_us"] / 1000,
            "trivial_cpu_us": trivial["cpu_us"],
            "dry_run_rps": dry_run["rps"],
            "dry_run_ratio": dry_run["rps"] / trivial["rps"],
            "dry_run_cpu_us": dry_run["cpu_us"],
            "ingest_rps": ingest["rps"],
            "ratio": ingest["rps"] / trivial["rps"],
            "ingest_cpu_us": ingest["cpu_us"],
            "p50_ms": ingest["p50_us"] / 1000,
            "p99_ms": ingest["p99_us"] / 1000,
            "non2xx": ingest["non2xx"] + ingest["socket_errors"] + dry_run["non2xx"] + dry_run["socket_errors"],
            "accepted": accepted,
            "stored": stored_now,
            # wrk stops mid-flight: at most one request per connection may be stored whose
            # answer wrk no longer read. Anything else would be a loss or a double count.
            "stored_ok": 0 <= stored_now - accepted <= connections,
            "peak_rss_mb": max(trivial["peak_rss"], dry_run["peak_rss"], ingest["peak_rss"]) / 2**20,
        })
        if sentry:
            before = stored()
            envelopes = measure_route(instances, envelope_script, connections, duration)
            time.sleep(1)
            stored_now, accepted = stored() - before, envelopes["requests"] - envelopes["non2xx"]
            rows[-1].update({
                "sentry_rps": envelopes["rps"],
                "sentry_ratio": envelopes["rps"] / trivial["rps"],
                "sentry_p99_ms": envelopes["p99_us"] / 1000,
                "sentry_cpu_us": envelopes["cpu_us"],
                "non2xx": rows[-1]["non2xx"] + envelopes["non2xx"] + envelopes["socket_errors"],
                "stored_ok": rows[-1]["stored_ok"] and 0 <= stored_now - accepted <= connections,
            })
        print_row(rows[-1])
    return rows


def print_row(row):
    print(
        f"{row['deployment']:<22} c={row['connections']:<3} trivial {row['trivial_rps']:7.0f} req/s | "
        f"ingest {row['ingest_rps']:7.0f} req/s = {row['ratio']:5.1%} of ceiling | "
        f"p50 {row['p50_ms']:6.1f} ms p99 {row['p99_ms']:6.1f} ms | non-2xx {row['non2xx']} | "
        f"accepted {row['accepted']} stored {row['stored']} {'OK' if row['stored_ok'] else 'MISMATCH'} | "
        f"peak RSS {row['peak_rss_mb']:.0f} MB\n"
        f"{'':<28}dry run (no write)           {row['dry_run_rps']:7.0f} req/s = {row['dry_run_ratio']:5.1%} of ceiling | "
        f"service CPU per request: trivial {row['trivial_cpu_us']:5.0f} us, dry run {row['dry_run_cpu_us']:5.0f} us, "
        f"ingest {row['ingest_cpu_us']:5.0f} us",
        flush=True,
    )
    if "sentry_rps" in row:
        print(
            f"{'':<28}Sentry envelopes (gzip)      {row['sentry_rps']:7.0f} req/s = {row['sentry_ratio']:5.1%} of ceiling | "
            f"p99 {row['sentry_p99_ms']:6.1f} ms | service CPU per request {row['sentry_cpu_us']:5.0f} us",
            flush=True,
        )


# --- minified reports, with and without a source map --------------------------------------

SOURCEMAP_FIXTURE = REPO / "tests" / "fixtures" / "sourcemaps" / "dist"
BUNDLE_URL = "https://shop.example.com/static/app.min.js"


def minified_bodies(project, count=100):
    """Reports of the esbuild fixture's three bugs, as Node printed them, from a web URL."""
    stacks = [stack.strip("\n") for stack in (SOURCEMAP_FIXTURE / "stack.txt").read_text().split("\n\n") if stack.strip()]
    bodies = []
    for n in range(count):
        # Node printed the recorder's path to the bundle; the reports come from a web page.
        stack = re.sub(r"/\S+?/dist/app\.min\.js", BUNDLE_URL, stacks[n % len(stacks)])
        headline = stack.split("\n", 1)[0]
        exception_type, _, message = headline.partition(": ")
        bodies.append(json.dumps({
            "project": project, "environment": "prod", "exception_type": exception_type, "message": f"{message} #{n}",
            "traceback": stack, "release": "1.0.0", "source": "browser",
        }))
    return bodies


def artifact_bundle():
    """The fixture's minified file and map as sentry-cli packs them, at ~/static/app.min.js."""
    import io
    import zipfile

    debug_id = "5b8a7e1c-0d2f-4c1e-9a7b-3f6e2d1c0b9a"
    buffer = io.BytesIO()
    buffer.write(b"SYSB\x02\x00\x00\x00")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/_/_/app.min.js", (SOURCEMAP_FIXTURE / "app.min.js").read_bytes())
        archive.writestr("files/_/_/app.min.js.map", (SOURCEMAP_FIXTURE / "app.min.js.map").read_bytes())
        archive.writestr("manifest.json", json.dumps({"files": {
            "files/_/_/app.min.js": {"type": "minified_source", "url": "~/static/app.min.js",
                                     "headers": {"debug-id": debug_id, "sourcemap": "app.min.js.map"}},
            "files/_/_/app.min.js.map": {"type": "source_map", "url": "~/static/app.min.js.map",
                                         "headers": {"debug-id": debug_id}},
        }}))
    return buffer.getvalue()


def upload_bundle(instance, project):
    """Upload and assemble the fixture bundle for `project` the way sentry-cli does."""
    import hashlib

    token = instance.manage("createtoken", "--name", "bench").strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    data = artifact_bundle()
    checksum = hashlib.sha1(data).hexdigest()
    base = f"{instance.url}/api/0/organizations/bench"
    requests.post(f"{base}/chunk-upload/", files={"file": (checksum, data)}, headers=auth, timeout=30).raise_for_status()
    answer = requests.post(
        f"{base}/artifactbundle/assemble/", json={"checksum": checksum, "chunks": [checksum], "projects": [project]},
        headers=auth, timeout=30,
    ).json()
    if answer["state"] != "ok":
        raise RuntimeError(f"bundle not stored: {answer}")


def measure_minified(scratch, connections_list, duration):
    """Minified stack reports to a project with the map uploaded and to one without."""
    instance = Instance(scratch / "minified", {})
    try:
        for name in ("with-map", "without-map"):
            instance.manage("createproject", name)
        instance.manage(
            "shell", "-c",
            "from projects.models import Project; Project.objects.update(events_per_minute=10**9, new_groups_per_hour=10**9)",
        )
        upload_bundle(instance, "with-map")
        print("\nminified stack reports (esbuild bundle, 3 bugs), POST /api/errors, SQLite:", flush=True)
        for connections in connections_list:
            # Alternated, so that drift of the shared machine shows as the spread of each.
            for name in ("without-map", "with-map", "without-map", "with-map"):
                folder = scratch / f"lua-{name}"
                folder.mkdir(exist_ok=True)
                script = write_lua(folder, minified_bodies(name), "/api/errors")
                run_parallel_wrk([instance.url], script, connections, 3)  # warm-up (and the map cache)
                # wrk leaves requests in flight: let them finish, or they fill the shedding queue.
                time.sleep(1)
                result = measure_route([instance], script, connections, duration)
                print(
                    f"  {name:<12} c={connections:<3} {result['rps']:7.0f} req/s | p99 {result['p99_us'] / 1000:6.1f} ms | "
                    f"service CPU per request {result['cpu_us']:5.0f} us | non-2xx {result['non2xx']}",
                    flush=True,
                )
        groups = stored_sqlite_groups(scratch / "minified" / "errors.db")
        print(f"  groups: {groups}", flush=True)
    finally:
        instance.stop()


def stored_sqlite_groups(path):
    """project -> [culprit file:line] of its groups."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT project, culprit_file, culprit_line FROM errors ORDER BY project, culprit_line").fetchall()
    found = {}
    for project, file, line in rows:
        found.setdefault(project, []).append(f"{file.rsplit('/', 1)[-1]}:{line}")
    return found


# --- parsing and admin ---------------------------------------------------------------------


def measure_parsing():
    from grouping.stacktrace import parse_stack

    cap = 256 * 1024
    frame = '  File "/srv/app/views.py", line 42, in handler\n    return compute(request)\n'
    inputs = {
        "python frames": "Traceback (most recent call last):\n" + frame * (cap // len(frame)),
        "V8 frames": "Error: x\n" + "    at handler (https://x.example/app.js:10:5)\n" * (cap // 45),
        "adversarial 'at ('": "at (\n" * (cap // 5),
        "adversarial short lines": 'File "' + "a\n" * (cap // 2),
        "adversarial '@' lines": "@\n" * (cap // 2),
        "adversarial ':1' lines": ":1\n" * (cap // 3),
        "adversarial big numbers": "@:9999999999\n" * (cap // 13),
        "adversarial Python frames": 'File "", line 1\n' * (cap // 16),
    }
    results = {}
    for name, text in inputs.items():
        times = []
        for _ in range(20):
            started = time.perf_counter()
            parse_stack(text)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = (statistics.median(times), max(times))
        print(f"parse 256 KB {name:<26} median {results[name][0]:6.2f} ms  max {results[name][1]:6.2f} ms")
    return results


def measure_admin(scratch, groups=100_000):
    data = Path(scratch) / "admin"
    instance = Instance(data, {"ADMIN_USERNAME": "bench", "ADMIN_PASSWORD": "bench-password", "DJANGO_SETTINGS_MODULE": "tracker.settings"})
    try:
        database = data / "errors.db"
        with sqlite3.connect(database) as db:
            rows = (
                (f"{n:032x}", f"project-{n % 50}", ("production", "staging")[n % 2], f"Error{n % 300}",
                 f"message number {n}", "Traceback ...", n % 97 + 1, f"2026-{(n % 11) + 1:02d}-01 00:00:00",
                 f"2026-11-{(n % 27) + 1:02d} {n % 24:02d}:{n % 60:02d}:00", n % 3 == 0, "backend",
                 f"/srv/app/module_{n % 400}.py", n % 500, "handler")
                for n in range(groups)
            )
            db.executemany(
                "INSERT INTO errors (fingerprint, project, environment, exception_type, message, traceback, count,"
                " first_seen, last_seen, resolved, source, culprit_file, culprit_line, culprit_function)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            db.execute("ANALYZE")
        session = requests.Session()
        login = session.get(f"{instance.url}/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
        session.post(
            f"{instance.url}/admin/login/",
            data={"username": "bench", "password": "bench-password", "csrfmiddlewaretoken": token, "next": "/admin/"},
            headers={"Referer": f"{instance.url}/admin/login/"},
        )
        pages = {
            "list, first page": "/admin/errors/error/",
            "list, page 500": "/admin/errors/error/?p=500",
            "filter project": "/admin/errors/error/?project=project-7",
            "filter open, 7 days": "/admin/errors/error/?status=open&seen=7d",
            "search message": "/admin/errors/error/?q=number+4242",
            "error page": "/admin/errors/error/4242/change/",
        }
        results = {}
        for name, path in pages.items():
            times = []
            for _ in range(15):
                started = time.perf_counter()
                response = session.get(f"{instance.url}{path}")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            results[name] = (statistics.median(times), max(times))
            print(f"admin {groups:,} groups: {name:<22} median {results[name][0]:7.1f} ms  max {results[name][1]:7.1f} ms")
        return results
    finally:
        instance.stop()


# --- before and after ----------------------------------------------------------------------


def measure_sqlite(label, scratch, connections_list, duration, code=REPO):
    instance = Instance(scratch / label, {}, code)
    try:
        return measure_deployment(
            label, [instance], lambda: stored_sqlite(scratch / label / "errors.db"), scratch, connections_list, duration,
            sentry=True,
        )
    finally:
        instance.stop()


def compare_with_baseline(revision, connections_list, duration):
    """SQLite ingest and envelopes for `revision` (a git worktree run by this venv), then this
    checkout, then `revision` again, so drift of the shared machine shows as the baseline's spread."""
    with tempfile.TemporaryDirectory(prefix="et-bench-") as scratch:
        scratch = Path(scratch)
        worktree = scratch / "baseline"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(worktree), revision], check=True,
                       capture_output=True)
        try:
            print(f"machine: {os.cpu_count()} cores; {duration} s per run; baseline {revision}", flush=True)
            runs = [
                ("before-1", worktree),
                ("after", REPO),
                ("before-2", worktree),
            ]
            rows = {label: measure_sqlite(label, scratch, connections_list, duration, code) for label, code in runs}
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)], check=False)
    print("\n| | " + " | ".join(f"ingest, {c} conns" for c in connections_list)
          + " | " + " | ".join(f"envelopes, {c} conns" for c in connections_list) + " |")
    print("|---" * (1 + 2 * len(connections_list)) + "|")
    for label, measured in rows.items():
        cells = [f"{row['ingest_rps']:.0f} req/s ({row['ratio']:.0%})" for row in measured]
        cells += [f"{row['sentry_rps']:.0f} req/s ({row['sentry_ratio']:.0%})" for row in measured]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("(in brackets: the share of the same run's trivial-view ceiling)")
    failed = [row for measured in rows.values() for row in measured if not row["stored_ok"] or row["non2xx"]]
    print("stored = accepted and no non-2xx in every run" if not failed else f"PROBLEMS in {len(failed)} run(s)")
    return 1 if failed else 0


# --- main ----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run (default 20)")
    parser.add_argument("--connections", default="8,32", help="comma-separated connection counts (default 8,32)")
    parser.add_argument("--skip-postgres", action="store_true", help="only the default SQLite deployment")
    parser.add_argument("--skip-admin", action="store_true", help="skip the 100,000-group admin measurement")
    parser.add_argument("--skip-storm", action="store_true", help="skip the error storm (bench/storm.py)")
    parser.add_argument("--only-minified", action="store_true", help="only the minified-report measurement")
    parser.add_argument(
        "--baseline", metavar="REV",
        help="only SQLite ingest and envelopes, for git revision REV and for this checkout, back to back",
    )
    args = parser.parse_args()
    connections_list = [int(c) for c in args.connections.split(",")]
    if args.baseline:
        return compare_with_baseline(args.baseline, connections_list, args.duration)
    if args.only_minified:
        with tempfile.TemporaryDirectory(prefix="et-bench-") as scratch:
            measure_minified(Path(scratch), connections_list, args.duration)
        return 0

    rows = []
    with tempfile.TemporaryDirectory(prefix="et-bench-") as scratch:
        scratch = Path(scratch)
        print(f"machine: {os.cpu_count()} cores; wrk -t2 on the same cores; {args.duration} s per run", flush=True)
        instance = Instance(scratch / "sqlite", {})
        try:
            rows += measure_deployment(
                "sqlite, 1 instance", [instance], lambda: stored_sqlite(scratch / "sqlite" / "errors.db"),
                scratch, connections_list, args.duration, sentry=True,
            )
        finally:
            instance.stop()
        if not args.skip_postgres:
            for count in (1, 2):
                with postgres_database() as url:
                    env = {"DATABASE_URL": url, "CACHE_URL": REDIS_URL, "SECRET_KEY": "bench"}
                    instances = [Instance(scratch / f"pg{count}-{n}", env) for n in range(count)]
                    try:
                        rows += measure_deployment(
                            f"postgres+redis, {count} inst", instances, lambda: stored_postgres(url),
                            scratch, connections_list, args.duration,
                        )
                    finally:
                        for running in instances:
                            running.stop()
        measure_minified(scratch, connections_list, args.duration)
        if not args.skip_storm:
            from bench.storm import measure_storm

            measure_storm(scratch)
        measure_parsing()
        if not args.skip_admin:
            measure_admin(scratch)
    failed = [row for row in rows if not row["stored_ok"] or row["non2xx"]]
    print("stored = accepted and no non-2xx in every run" if not failed else f"PROBLEMS in {len(failed)} run(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
