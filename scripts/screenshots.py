"""Take the README's screenshots (docs/*.png) of a real server in headless Chromium.

Run with the dev venv: `.venv/bin/python scripts/screenshots.py`. Reports go through the API as
any client's would; the earlier hours and days of the charts are then filled in the server's
SQLite file, since a fresh server has no past to draw.
"""

import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
API_KEY = "screenshot-key"
ADMIN = ("triager", "correct horse battery")

REPORTS = [
    ("shop", "production", "CardDeclined", "card 4242 declined by issuer", "/srv/shop/payments.py", 88, "charge_card"),
    ("shop", "production", "TimeoutError", "timed out talking to bank after 30s", "/srv/shop/bank.py", 41, "post"),
    ("shop", "staging", "KeyError", "'sku'", "/srv/shop/cart.py", 17, "add_item"),
    ("blog", "production", "TemplateDoesNotExist", "post_detail.html", "/srv/blog/views.py", 12, "render_post"),
    ("api", "production", "IntegrityError", "duplicate key value violates unique constraint", "/srv/api/orders.py", 203, "create_order"),
    ("api", "production", "ZeroDivisionError", "division by zero", "/srv/api/reports.py", 55, "average"),
]


def traceback(file, line, function, exc_type, message):
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/handlers.py", line 31, in dispatch\n'
        "    return view(request)\n"
        f'  File "{file}", line {line}, in {function}\n'
        f"    {function}(request)\n"
        f"{exc_type}: {message}\n"
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    data = Path(tempfile.mkdtemp(prefix="screenshots-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "API_KEY": API_KEY, "DATABASE_PATH": str(data / "errors.db"), "PORT": str(port),
        "HOST": "127.0.0.1", "PUBLIC_URL": url, "RATE_LIMIT": "100000/m",
        "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "ADMIN_EMAIL": "t@example.com",
    }
    server = subprocess.Popen([str(Path(sys.executable).with_name("error-tracker"))], env=env, cwd=REPO)
    try:
        for _ in range(200):
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        ids = seed(url)
        backfill(data / "errors.db")
        shoot(url, ids[0])
    finally:
        server.terminate()
        server.wait(30)


def seed(url):
    session = requests.Session()
    session.headers["X-API-Key"] = API_KEY
    rng = random.Random(7)
    ids = []
    for index, (project, environment, exc_type, message, file, line, function) in enumerate(REPORTS):
        for n in range(rng.randint(3, 30) if index else 40):
            body = {
                "project": project, "environment": environment, "exception_type": exc_type, "message": message,
                "traceback": traceback(file, line, function, exc_type, message),
                "user_id": f"user-{rng.randint(1, 60 if index else 400)}", "release": "2.4.0",
                "request_url": "/checkout", "request_method": "POST",
            }
            answer = session.post(f"{url}/api/errors", json=body, timeout=5).json()
            if n == 0:
                ids.append(answer["id"])
    session.post(f"{url}/api/errors/{ids[1]}/resolve", json={"in_release": "2.4.1"}, timeout=5)
    session.post(f"{url}/api/errors/{ids[1]}/unresolve", timeout=5)
    session.post(f"{url}/api/errors/{ids[0]}/resolve", timeout=5)
    session.post(f"{url}/api/errors/{ids[0]}/unresolve", timeout=5)
    return ids


def backfill(database):
    """Earlier hours and days, so the charts show a shape: a spike two hours ago, a daily rhythm."""
    rng = random.Random(11)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    with sqlite3.connect(database) as db:
        for (error_id,) in db.execute("SELECT id FROM errors").fetchall():
            scale = rng.uniform(0.5, 6)
            for back in range(1, 14 * 24):
                hour = now - timedelta(hours=back)
                count = int(scale * (1.5 + (hour.hour % 24 in range(9, 19))) * rng.random() * 3)
                if error_id == 1 and back in (2, 3):
                    count *= 12
                if count:
                    insert(db, error_id, "h", hour, count)
                    insert(db, error_id, "d", hour.replace(hour=0), count)


def insert(db, error_id, span, start, count):
    db.execute(
        "INSERT INTO error_buckets (error_id, span, start, count) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (error_id, span, start) DO UPDATE SET count = count + excluded.count",
        [error_id, span, start.strftime("%Y-%m-%d %H:%M:%S"), count],
    )


def shoot(url, error_id):
    DOCS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(base_url=url, viewport={"width": 1600, "height": 620})
        page.goto("/admin/")
        page.fill("#id_username", ADMIN[0])
        page.fill("#id_password", ADMIN[1])
        page.click("input[type=submit]")
        page.goto("/admin/errors/error/")
        page.click("#toggle-nav-sidebar")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=DOCS / "error-list.png")
        page.set_viewport_size({"width": 1300, "height": 1100})
        page.goto(f"/admin/errors/error/{error_id}/change/")
        page.screenshot(path=DOCS / "error-page.png")
        browser.close()


if __name__ == "__main__":
    main()
