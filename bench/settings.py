"""The service's own settings plus one route: the trivial view the benchmark measures as the
framework's ceiling. Used only by bench/ingest.py."""

from tracker.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
