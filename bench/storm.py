"""Error storm: reports offered at several times what the default deployment can store, from 64
connections, as a bad deploy makes every client report at once. Figures only; not a test.

Run: `.venv/bin/python bench/storm.py` (or as part of `make bench`); `--help` for options.

1. A fresh default deployment (SQLite) is driven by wrk at 32 connections for 10 s: what it can
   store a second, its capacity.
2. A load client in a process of its own offers reports at `--times` (3) × that rate for
   `--seconds` (60) over 64 keep-alive connections, open loop: report i is due at i / rate
   seconds, and its time to answer is counted from then, so an answer that waited for a free
   connection counts its wait (no coordinated omission).
3. Meanwhile a prober asks for /health, the admin's error list (logged in) and sends one report
   every half second, from 3 s before the storm to 10 s after it.
It prints time-to-answer percentiles by status, the share answered within 2 s, the prober's
latencies before, during and after, when they were back to normal, and stored against accepted.
"""

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import API_KEY, Instance, make_bodies, run_wrk, stored_sqlite, write_lua  # noqa: E402

ADMIN = ("bench", "bench-password")
PROBE_EVERY = 0.5
ANSWER_WITHIN = 2.0


# --- the load client (its own process) ------------------------------------------------------


def request_bytes(body):
    payload = body.encode()
    return (
        f"POST /api/errors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {API_KEY}\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def read_answer(reader):
    """(status, whether the server closes the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split(" ")[1]), headers.get("connection") == "close"


async def offer(port, bodies, rate, seconds, connections):
    """(the wall-clock time report 0 was due, [(due offset s, status or 0 for a broken
    connection, seconds to answer)])."""
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    start = loop.time() + 0.5
    started_at = time.time() + 0.5
    taken = 0
    results = []

    async def connection():
        nonlocal taken
        reader = writer = None
        while taken < total:
            index, taken = taken, taken + 1
            due = start + index / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(bodies[index % len(bodies)])
                status, closes = await asyncio.wait_for(read_answer(reader), 30)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                status, closes = 0, True
            results.append((due - start, status, loop.time() - due))
            if closes and writer is not None:
                writer.close()
                writer = None

    await asyncio.gather(*(connection() for _ in range(connections)))
    return started_at, results


def client_main(port, rate, seconds, connections):
    bodies = [request_bytes(body) for body in make_bodies()]
    started_at, results = asyncio.run(offer(port, bodies, rate, seconds, connections))
    print(json.dumps({"started_at": started_at, "results": results}))


# --- the storm ------------------------------------------------------------------------------


class Prober(threading.Thread):
    """GET /health, GET the admin's error list, POST one report, every PROBE_EVERY seconds."""

    def __init__(self, instance):
        super().__init__(daemon=True)
        self.instance = instance
        self.session = admin_session(instance)
        self.reporter = requests.Session()
        self.reporter.headers["X-API-Key"] = API_KEY
        self.samples = []  # (wall-clock time, probe, status, seconds)
        self.accepted = 0
        self.stopping = threading.Event()

    def run(self):
        url = self.instance.url
        probes = {
            "/health": lambda: requests.get(f"{url}/health", timeout=30),
            "admin list": lambda: self.session.get(f"{url}/admin/errors/error/", timeout=30),
            "one report": lambda: self.reporter.post(
                f"{url}/api/errors", json={"project": "prober", "exception_type": "ProbeError",
                                           "message": "probe", "traceback": "ProbeError: probe"}, timeout=30),
        }
        while not self.stopping.is_set():
            for name, probe in probes.items():
                started = time.time()
                try:
                    status = probe().status_code
                except requests.RequestException:
                    status = 0
                self.samples.append((started, name, status, time.time() - started))
                if name == "one report" and status in (200, 201):
                    self.accepted += 1
            self.stopping.wait(PROBE_EVERY)


def admin_session(instance):
    session = requests.Session()
    login = session.get(f"{instance.url}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
    session.post(
        f"{instance.url}/admin/login/",
        data={"username": ADMIN[0], "password": ADMIN[1], "csrfmiddlewaretoken": token, "next": "/admin/"},
        headers={"Referer": f"{instance.url}/admin/login/"},
    )
    return session


def percentiles(values):
    values = sorted(values)
    if not values:
        return "-"

    def at(share):
        return values[min(int(share * len(values)), len(values) - 1)] * 1000

    return f"p50 {at(0.5):7.1f} ms  p99 {at(0.99):7.1f} ms  max {values[-1] * 1000:7.1f} ms"


def measure_storm(scratch, seconds=60, times=3.0, connections=64):
    instance = Instance(Path(scratch) / "storm", {"ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1]})
    try:
        database = Path(scratch) / "storm" / "errors.db"
        bodies = make_bodies()
        script = write_lua(scratch, bodies, "/api/errors")
        run_wrk(instance.url, script, 32, 3)
        before = stored_sqlite(database)
        measured = run_wrk(instance.url, script, 32, 10)
        time.sleep(1)
        capacity = (stored_sqlite(database) - before) / 10
        rate = capacity * times
        print(f"storm: capacity {capacity:.0f} stored reports/s (wrk, 32 connections, 10 s; p99 "
              f"{measured['p99_us'] / 1000:.1f} ms); offering {rate:.0f} reports/s ({times:g}x) for {seconds} s "
              f"from {connections} connections", flush=True)

        stored_before = stored_sqlite(database)
        prober = Prober(instance)
        prober.start()
        time.sleep(3)
        client = subprocess.run(
            [sys.executable, __file__, "--client", str(instance.port), str(rate), str(seconds), str(connections)],
            capture_output=True, text=True, check=True, timeout=seconds + 120,
        )
        offered = json.loads(client.stdout)
        results, storm_started = offered["results"], offered["started_at"]
        storm_ended = storm_started + max(due + answered_in for due, _status, answered_in in results)
        time.sleep(10)
        prober.stopping.set()
        prober.join()
        time.sleep(1)
        report_storm(results, seconds, prober, storm_started, storm_ended,
                     stored_sqlite(database) - stored_before, instance)
    finally:
        instance.stop()


def report_storm(results, seconds, prober, storm_started, storm_ended, stored, instance):
    by_status = {}
    for _due, status, answered_in in results:
        by_status.setdefault(status, []).append(answered_in)
    within = sum(1 for _due, _status, answered_in in results if answered_in <= ANSWER_WITHIN)
    print(f"storm: {len(results):,} reports offered ({len(results) / seconds:.0f}/s); "
          f"{within / len(results):.2%} answered within {ANSWER_WITHIN:g} s", flush=True)
    for status in sorted(by_status):
        name = "broken connection" if status == 0 else f"HTTP {status}"
        print(f"  {name:<18} {len(by_status[status]):>7,}  time to answer {percentiles(by_status[status])}", flush=True)
    accepted = sum(len(by_status.get(status, [])) for status in (200, 201)) + prober.accepted
    print(f"  stored {stored:,} against {accepted:,} answered 2xx (storm and prober): "
          f"{'OK' if stored == accepted else 'MISMATCH'}", flush=True)

    def phase(at):
        if at < storm_started:
            return "before"
        return "during" if at < storm_ended else "after"

    for probe in ("/health", "admin list", "one report"):
        samples = [(at, status, took) for at, name, status, took in prober.samples if name == probe]
        line = []
        for name in ("before", "during", "after"):
            took = [t for at, _status, t in samples if phase(at) == name]
            statuses = sorted({status for at, status, _t in samples if phase(at) == name})
            line.append(f"{name} {statistics.median(took) * 1000:6.1f} / max {max(took) * 1000:7.1f} ms {statuses}"
                        if took else f"{name} -")
        print(f"  prober {probe:<11} median / max: " + " | ".join(line), flush=True)
    normal = [took for at, name, _status, took in prober.samples if name == "one report" and at < storm_started]
    after = [(at, took) for at, name, _status, took in prober.samples if name == "one report" and at >= storm_ended]
    bound = 2 * statistics.median(normal) + 0.005
    settled = next((at for i, (at, _took) in enumerate(after) if all(t <= bound for _a, t in after[i:])), None)
    settled_text = f"{settled - storm_ended:.1f} s" if settled is not None else "not within 10 s"
    print(f"  back to normal (a report answered within 2x its pre-storm median, {bound * 1000:.0f} ms, from then on): "
          f"{settled_text} after the storm ended; RSS then {instance.rss_bytes() / 2**20:.0f} MB", flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, rate, seconds, connections = sys.argv[2:6]
        client_main(int(port), float(rate), int(seconds), int(connections))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="how long the storm lasts (default 60)")
    parser.add_argument("--times", type=float, default=3.0, help="offered rate as a multiple of capacity (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="the load client's connections (default 64)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="et-storm-") as scratch:
        measure_storm(scratch, args.seconds, args.times, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
