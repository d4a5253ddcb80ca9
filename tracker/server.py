"""Serving the WSGI app with granian, a Rust HTTP server.

granian parses HTTP outside Python: a connection costs a Python thread only once its headers
are complete, and a client that trickles its headers is dropped after HEADER_TIMEOUT. What a
client that stops sending its body can hold is bounded in `errors.limits`.

The background jobs (alerts, retention) run as one thread of the main process, started once the
workers are forked and stopped after they have finished their requests on SIGTERM.
"""

import gc
import multiprocessing

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import Server


def load_application(_target=None):
    """The app, loaded in each worker with every URL resolved, then frozen out of the GC.

    Django, DRF and the admin leave about 90,000 long-lived objects that every full collection
    would walk again; frozen, they are skipped (bench/README.md).
    """
    from django.urls import get_resolver

    from tracker.wsgi import application

    get_resolver().url_patterns
    gc.freeze()
    return application


class TrackerServer(Server):
    def startup(self, spawn_target, target_loader):
        super().startup(spawn_target, target_loader)
        from errors import jobs

        jobs.start()

    def shutdown(self, exit_code=0):
        from errors import jobs

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
        interface=Interfaces.WSGI,
        workers=settings.WORKERS,
        blocking_threads=settings.THREADS + settings.WAITING_THREADS,
        # Connections beyond the threads' capacity wait in granian (Rust), not in Python; its
        # bound counts connections still sending headers too, so it stays at granian's 1,024.
        backpressure=1024,
        http="1",
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.HEADER_TIMEOUT * 1000)),
        log_level="warning" if settings.LOG_LEVEL in ("error", "warn", "warning") else "info",
        log_dictconfig=settings.LOGGING,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.SHUTDOWN_TIMEOUT,
    )
    server.serve(target_loader=load_application)
