"""Serving the app with granian, a Rust HTTP server, through its RSGI interface (tracker/rsgi.py).

granian parses HTTP outside Python: a client that trickles its headers costs no Python thread
and is dropped after HEADER_TIMEOUT; one that trickles its body costs a coroutine and is answered
408 after BODY_TIMEOUT. Only complete requests reach the THREADS threads that run Django.

The background jobs (alerts, retention) run as one thread of the main process, started once the
workers are forked and stopped after they have finished their requests on SIGTERM.
"""

import gc
import hmac
import multiprocessing
import re
import sys

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import Server


def load_application(_target=None):
    """The app, loaded in each worker with every URL resolved, then frozen out of the GC.

    Django, DRF and the admin leave about 90,000 long-lived objects that every full collection
    would walk again; frozen, they are skipped (bench/README.md).
    """
    from django.conf import settings
    from django.urls import get_resolver

    from tracker.rsgi import RSGIToWSGI
    from tracker.wsgi import application

    get_resolver().url_patterns
    app = RSGIToWSGI(
        application,
        threads=settings.THREADS,
        max_body_bytes=settings.MAX_BODY_BYTES,
        body_timeout=settings.BODY_TIMEOUT,
        unfinished_per_client=settings.UNFINISHED_REQUESTS_PER_CLIENT,
        trusted_proxies=settings.TRUSTED_PROXY_NETWORKS,
        upload_path=re.compile(settings.UPLOAD_PATH),
        max_upload_bytes=settings.MAX_UPLOAD_REQUEST_BYTES,
        may_upload=carries_token,
        report_path=re.compile(settings.REPORT_PATH),
        max_queued_reports=settings.MAX_QUEUED_REPORTS,
    )
    gc.freeze()
    # The event loop answers refusals and hands requests over only when it holds the GIL; with
    # Python's default 5 ms turns, busy request threads kept a storm's 429s waiting ~100 ms
    # (bench/README.md, error storm).
    sys.setswitchinterval(GIL_TURN_SECONDS)
    return app


GIL_TURN_SECONDS = 0.001

_TOKEN = re.compile(r"[Bb]earer (sntryu_[0-9a-f]{64})")


def carries_token(authorization):
    """Whether an Authorization header holds something shaped like an API token, or API_KEY:
    only then may a body be larger than MAX_BODY_BYTES (the token itself is checked by Django,
    once the body is in)."""
    from django.conf import settings

    if _TOKEN.fullmatch(authorization):
        return True
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.encode(), settings.API_KEY.encode())


class TrackerServer(Server):
    def startup(self, spawn_target, target_loader):
        super().startup(spawn_target, target_loader)
        from maintenance import jobs

        jobs.start()

    def shutdown(self, exit_code=0):
        from maintenance import jobs

        try:
            super().shutdown(exit_code)
        finally:
            jobs.stop()


def serve(settings):
    """Serve on HOST:PORT until SIGTERM or SIGINT; in-flight requests finish first."""
    # Workers are forked from this process, which has already set Django up.
    multiprocessing.set_start_method("fork", force=True)
    server = TrackerServer(
        "tracker.wsgi:application",
        address=settings.HOST,
        port=settings.PORT,
        interface=Interfaces.RSGI,
        workers=settings.WORKERS,
        http="1",
        # Connections each worker serves at once (granian's own default): the bridge keeps any
        # one client to a few of them.
        backpressure=1024,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.HEADER_TIMEOUT * 1000)),
        log_level="warning" if settings.LOG_LEVEL in ("error", "warn", "warning") else "info",
        log_dictconfig=settings.LOGGING,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.SHUTDOWN_TIMEOUT,
    )
    server.serve(target_loader=load_application)
