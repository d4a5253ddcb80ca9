"""Triage benchmark: search and the admin list over 100,000 groups, and what keeping the search
index costs ingest. Figures only; it is not a test.

Run: `.venv/bin/python bench/triage.py` (SQLite); `--database-url postgres://postgres@127.0.0.1:5432/postgres`
adds PostgreSQL (a fresh database is made on that URL's server, through the database the URL
names, and dropped after); `--help`.

Each engine runs in a process of its own (Django reads its settings once): a fresh database,
migrated, seeded in bulk with realistic groups (10-25-frame Python tracebacks from a few
thousand files and functions, varied messages, environments, releases and users), then:
1. ingest's own upsert of one group 2,000 times, each report its own transaction: as
   migrated, without the search index's update trigger, and without the indexes migration 0011
   adds to `errors`; with the same text every time (as most reports of a group) and with a new
   message every time (each report re-indexed), for a 2 KB and a 256 KB traceback.
2. GET /api/errors?search=… through Django's test client with the API key, the default list
   (muted groups hidden) with its `total`: median and p95 of --runs requests each.
3. The admin's error list, logged in as a superuser: the default page and searches.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
API_KEY = "bench-api-key"
RARE_WORD = "reconcile_quarterly_ledger"
SEARCHES = {
    "rare word (1 traceback)": RARE_WORD,
    "common word": "django",
    "prefix": "Timeo",
    "two words": "payments charge",
    "key:value filters": "release:2.14.0 environment:production is:unresolved charge",
    "user": "user:user-4242",
    "release": "release:2.14.0",
}

# --- workload ------------------------------------------------------------------------------

PROJECTS = ["shop", "billing", "search", "accounts", "mobile-api", "warehouse", "reports", "notifications"]
TYPES = [
    "ValueError", "KeyError", "TypeError", "AttributeError", "IndexError", "TimeoutError", "ConnectionResetError",
    "IntegrityError", "OperationalError", "PermissionDenied", "ValidationError", "DoesNotExist", "ZeroDivisionError",
    "UnicodeDecodeError", "JSONDecodeError", "RuntimeError", "NotImplementedError", "RecursionError", "OSError",
    "FileNotFoundError", "SSLError", "ReadTimeout", "ProgrammingError", "DataError", "AssertionError",
]
VERBS = ["charge", "load", "save", "render", "parse", "send", "fetch", "validate", "sync", "build", "apply",
         "compute", "resolve", "refund", "notify", "export", "import", "index", "merge", "schedule"]
NOUNS = ["card", "user", "order", "invoice", "cart", "session", "token", "report", "payment", "shipment", "coupon",
         "address", "profile", "webhook", "ledger", "account", "refund", "price", "stock", "email", "queue", "batch"]
PACKAGES = ["payments", "orders", "users", "catalog", "checkout", "billing", "search", "api", "core", "tasks",
            "integrations", "reports", "inventory", "auth", "notifications"]
MODULES = ["views", "models", "services", "tasks", "serializers", "forms", "utils", "client", "handlers", "signals"]
FRAMEWORK = [
    ("django/core/handlers/exception.py", 55, "inner", "response = get_response(request)"),
    ("django/core/handlers/base.py", 197, "_get_response", "response = wrapped_callback(request, *callback_args)"),
    ("django/views/generic/base.py", 104, "view", "return self.dispatch(request, *args, **kwargs)"),
    ("rest_framework/views.py", 509, "dispatch", "response = handler(request, *args, **kwargs)"),
    ("django/db/backends/utils.py", 89, "_execute", "return self.cursor.execute(sql, params)"),
    ("celery/app/trace.py", 451, "trace_task", "R = retval = fun(*args, **kwargs)"),
    ("requests/adapters.py", 713, "send", "raise ReadTimeout(e, request=request)"),
    ("urllib3/connectionpool.py", 536, "_make_request", "response = conn.getresponse()"),
]
MESSAGES = [
    "invalid literal for int() with base 10: '{word}'", "'{noun}_id'", "User matching query does not exist.",
    "connection to db-{n}.internal timed out after 30 s", "Timeout waiting for {noun} service",
    "duplicate key value violates unique constraint \"{noun}_pkey\"", "'NoneType' object has no attribute '{noun}'",
    "list index out of range", "Expecting value: line 1 column {n} (char {n})", "{verb} failed for {noun} {n}",
    "HTTPSConnectionPool(host='api.{noun}s.example.com', port=443): Read timed out.",
]
RELEASES = [f"2.{minor}.{patch}" for minor in range(10, 20) for patch in range(4)]


def app_frame(rng):
    package, module = rng.choice(PACKAGES), rng.choice(MODULES)
    function = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
    code = f"{rng.choice(NOUNS)} = {rng.choice(VERBS)}_{rng.choice(NOUNS)}({rng.choice(NOUNS)}, {rng.choice(NOUNS)}=True)"
    return f"/srv/app/{package}/{module}.py", rng.randint(10, 900), function, code


def make_group(n, rng):
    """One group's row values, its environments and its users."""
    exception_type = TYPES[n % len(TYPES)] if rng.random() < 0.9 else rng.choice(TYPES)
    message = rng.choice(MESSAGES).format(word=rng.choice(NOUNS), noun=rng.choice(NOUNS), verb=rng.choice(VERBS),
                                          n=rng.randint(1, 9999))
    frames = [rng.choice(FRAMEWORK) for _ in range(rng.randint(3, 8))]
    frames += [app_frame(rng) for _ in range(rng.randint(7, 17))]
    if n == 54321:
        frames.insert(len(frames) // 2, ("/srv/app/billing/closing.py", 311, RARE_WORD, "ledger.close(quarter)"))
    lines = ["Traceback (most recent call last):"]
    for file, line, function, code in frames:
        path = file if file.startswith("/") else f"/srv/app/.venv/lib/python3.12/site-packages/{file}"
        lines += [f'  File "{path}", line {line}, in {function}', f"    {code}"]
    lines.append(f"{exception_type}: {message}")
    culprit_file, culprit_line, culprit_function, _code = frames[-1]
    last_seen = 1_790_000_000 - rng.randint(0, 90 * 86400)
    environments = ["production"] if rng.random() < 0.7 else rng.sample(["production", "staging", "development"], 2)
    users = [f"user-{rng.randint(1, 50_000)}" for _ in range(rng.choice((0, 0, 1, 3, 8)))]
    roll = rng.random()
    row = (
        n + 1, uuid.UUID(int=n).hex, rng.choice(PROJECTS), environments[0], exception_type, message, "\n".join(lines) + "\n",
        rng.randint(1, 5000), _timestamp(last_seen - rng.randint(0, 30 * 86400)), _timestamp(last_seen),
        roll < 0.3, roll > 0.95, "backend", culprit_file, culprit_line, culprit_function, rng.choice(RELEASES),
    )
    return row, environments, users


def _timestamp(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


_INSERT_ERROR = (
    "INSERT INTO errors (id, fingerprint, project, environment, exception_type, message, traceback, count,"
    " first_seen, last_seen, resolved, muted, source, culprit_file, culprit_line, culprit_function, release)"
    f" VALUES ({', '.join(['%s'] * 17)})"
)


def seed(groups):
    """`groups` groups with their environments and users, in batches; the triggers index them."""
    from django.db import connection, transaction

    from errors.userhash import user_hash

    rng = random.Random(7)
    batch = 5_000
    for start in range(0, groups, batch):
        made = [make_group(n, rng) for n in range(start, min(start + batch, groups))]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(_INSERT_ERROR, [row for row, _envs, _users in made])
            cursor.executemany(
                "INSERT INTO error_environments (error_id, environment) VALUES (%s, %s)",
                [(row[0], env) for row, envs, _users in made for env in envs],
            )
            cursor.executemany(
                "INSERT INTO error_users (error_id, user_hash) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(row[0], user_hash(user)) for row, _envs, users in made for user in users],
            )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('errors', 'id'), max(id)) FROM errors")
            # What autovacuum does soon after a load: index-only scans need the visibility map.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


# --- measurements --------------------------------------------------------------------------


# What search adds to each report's write: the update trigger, and the indexes of migration 0011.
WITHOUT = {
    "without the update trigger": ["error_search_update"],
    "without errors_muted_idx, errors_release_idx": ["errors_muted_idx", "errors_release_idx"],
}


def measure_ingest(upserts=2_000, rounds=3):
    """µs per report of ingest's own upsert of one group, each in its own transaction as ingest
    writes them: as migrated, and with the trigger or the indexes dropped for the run; the
    median of `rounds` rounds, the variants taking turns, so drift of the machine is shared."""
    from django.db import connection, transaction
    from django.utils import timezone

    from ingest.store import _GROUP_COLUMNS, _UPSERT_GROUP

    frame = '  File "/srv/app/payments/views.py", line 42, in charge_card\n    total = order.total(card)\n'
    print(f"ingest upsert, µs per report ({upserts:,} reports of one group, each committed):", flush=True)
    for size in (2 * 1024, 256 * 1024):
        traceback = "Traceback (most recent call last):\n" + frame * (size // len(frame))
        for changing in (False, True):
            figures = {}
            for variant, dropped in [*{"as migrated": [], **WITHOUT}.items()] * rounds:
                with _dropped(connection, dropped):
                    started = time.perf_counter()
                    for n in range(upserts):
                        message = f"charge failed for order {n if changing else 0}"
                        group = {
                            "fingerprint": "bench-ingest", "project": "shop", "exception_type": "ValueError",
                            "environment": "production", "message": message, "traceback": traceback + message,
                            "source": "backend", "culprit_file": "/srv/app/payments/views.py", "culprit_line": 42,
                            "culprit_function": "charge_card", "culprit_context": "", "release": "2.14.0",
                        }
                        now = connection.ops.adapt_datetimefield_value(timezone.now())
                        with transaction.atomic(), connection.cursor() as cursor:
                            cursor.execute(_UPSERT_GROUP, [*(group[c] for c in _GROUP_COLUMNS), now, now, False, "", False, False])
                            cursor.fetchone()
                    figures.setdefault(variant, []).append((time.perf_counter() - started) / upserts * 1e6)
            text = "a new message every report" if changing else "the same text every report"
            print(f"  {size // 1024:>3} KB traceback, {text:<27} "
                  + ", ".join(f"{v} {statistics.median(us):,.0f}" for v, us in figures.items()), flush=True)


@contextmanager
def _dropped(connection, names):
    """Triggers and indexes dropped for a while, then made again from their own definitions."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = ANY(%s) UNION ALL "
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [names, names])
        else:
            cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE name IN ({', '.join(['%s'] * len(names))})", names)
        definitions = cursor.fetchall()
        for name, _sql in definitions:
            kind = "TRIGGER" if name.startswith("error_search") else "INDEX"
            cursor.execute(f"DROP {kind} {name}" + (" ON errors" if kind == "TRIGGER" and connection.vendor == "postgresql" else ""))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in definitions:
                cursor.execute(sql)


def timed(get, path, runs):
    """Median and p95 in ms of `runs` requests after one to warm the caches, and the last answer."""
    get(path)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return statistics.median(times), statistics.quantiles(times, n=20)[18], response


def measure_search(runs):
    from django.test import Client

    api = Client(HTTP_X_API_KEY=API_KEY)
    for name, search in SEARCHES.items():
        median, p95, response = timed(api.get, f"/api/errors?search={search}", runs)
        print(f"API search {name:<24} {search!r:<62} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
              f"total {response.json()['total']:>6,}", flush=True)


def measure_admin(runs):
    from django.contrib.auth.models import User
    from django.test import Client

    admin = Client()
    admin.force_login(User.objects.create_superuser("bench", "bench@example.com", "bench"))
    pages = {
        "default list": "/admin/errors/error/",
        "search charge_card": "/admin/errors/error/?q=charge_card",
        f"search {RARE_WORD}": f"/admin/errors/error/?q={RARE_WORD}",
        "search is:muted Timeo": "/admin/errors/error/?q=is:muted+Timeo",
    }
    for name, path in pages.items():
        median, p95, _response = timed(admin.get, path, runs)
        print(f"admin list, {name:<38} median {median:6.1f} ms  p95 {p95:6.1f} ms", flush=True)


def measure_engine(groups, runs):
    """In a process whose environment names the database: migrate, seed, measure."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(groups)
    print(f"{connection.vendor}: seeded {groups:,} groups in {time.perf_counter() - started:.1f} s", flush=True)
    measure_ingest()
    measure_search(runs)
    measure_admin(runs)


# --- engines -------------------------------------------------------------------------------


def run_engine(env, args):
    child = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_PATH")},
        "API_KEY": API_KEY, "SECRET_KEY": "bench", "RATE_LIMIT": "100000000/m", "LOG_LEVEL": "warning",
        "DJANGO_SETTINGS_MODULE": "tracker.settings", **env,
    }
    command = [sys.executable, __file__, "--groups", str(args.groups), "--runs", str(args.runs), "--in-process"]
    subprocess.run(command, env=child, cwd=REPO, check=True)


@contextmanager
def postgres_database(url):
    """A fresh database on the server of `url`, dropped afterwards."""
    import psycopg

    server = url.rsplit("/", 1)[0]
    name = f"bench_triage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000, help="groups to seed (default 100,000)")
    parser.add_argument("--runs", type=int, default=30, help="requests timed per search or page (default 30)")
    parser.add_argument("--database-url", help="also PostgreSQL: a fresh database on this URL's server")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL run")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        measure_engine(args.groups, args.runs)
        return 0
    print(f"machine: {os.cpu_count()} cores; {args.groups:,} groups; {args.runs} runs per figure", flush=True)
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="et-triage-") as scratch:
            run_engine({"DATABASE_PATH": str(Path(scratch) / "errors.db")}, args)
    if args.database_url:
        with postgres_database(args.database_url) as url:
            run_engine({"DATABASE_URL": url}, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
