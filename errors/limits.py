"""Request guards: who the client is, the per-IP rate limit, and reading the body (cap, deadline)."""

import io
import ipaddress
import logging
import threading
from collections import Counter

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError


logger = logging.getLogger("errors.requests")


def client_ip(request):
    """REMOTE_ADDR, or the address a trusted proxy says it forwarded for.

    X-Forwarded-For is read right to left, skipping our own trusted proxies: the first address
    that is not one of them is the client. Without trusted proxies the header is ignored, so a
    client cannot choose its own rate-limit bucket. (django-ratelimit then masks IPv6 clients to
    their /64, so one host cannot rotate through its addresses.)
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXY_NETWORKS or not _is_trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for candidate in reversed(forwarded):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote
        if not _is_trusted(candidate):
            return candidate
    return remote


def _is_trusted(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def count_request(request, group, rate):
    """Count this request in `group` for its client; django-ratelimit's usage, or None if the
    cache is down.

    An unreachable shared cache (Redis) must not take ingestion or the admin down with it, so
    the limit is skipped, with a warning, rather than the request refused.
    """
    try:
        return get_usage(request, group=group, key="ip", rate=rate, increment=True)
    except (RedisError, OSError) as exc:
        logger.warning("rate limit skipped, cache unreachable: %s", exc)
        return None


def rate_limit_headers(usage):
    return {
        "X-RateLimit-Limit": str(usage["limit"]),
        "X-RateLimit-Remaining": str(max(usage["limit"] - usage["count"], 0)),
        "X-RateLimit-Reset": str(max(usage["time_left"], 0)),
    }


def refuse(request, status, detail, headers=None):
    """A JSON refusal given before any view runs, and its log line."""
    logger.info(
        "rejected %s %s %s from %s: %s", status, request.method, request.path, client_ip(request), detail
    )
    response = JsonResponse({"detail": detail}, status=status)
    for header, value in (headers or {}).items():
        response[header] = value
    return response


class RateLimitMiddleware:
    """RATE_LIMIT per client IP on every /api/ route, counted before the body is read or the key
    checked, so floods of big bodies and of bad keys are limited too. Every /api/ answer, the
    refusals included, carries the X-RateLimit-* headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        usage = count_request(request, "api", settings.RATE_LIMIT)
        if usage is None:
            return self.get_response(request)
        headers = rate_limit_headers(usage)
        if usage["should_limit"]:
            retry_after = max(usage["time_left"], 1)
            return refuse(
                request, 429, "Rate limit exceeded: too many requests from this IP.",
                {**headers, "Retry-After": str(retry_after)},
            )
        response = self.get_response(request)
        for header, value in headers.items():
            response[header] = value
        return response


# One client may have this many bodies arriving at once; more are refused at once (429).
MAX_UNFINISHED_BODIES_PER_CLIENT = 8


class _UnfinishedBodies:
    """How many bodies each client IP is sending right now, in this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_client = Counter()

    def enter(self, client):
        with self.lock:
            if self.by_client[client] >= MAX_UNFINISHED_BODIES_PER_CLIENT:
                return False
            self.by_client[client] += 1
            return True

    def leave(self, client):
        with self.lock:
            self.by_client[client] -= 1
            if not self.by_client[client]:
                del self.by_client[client]


_unfinished = _UnfinishedBodies()


class RequestBodyMiddleware:
    """Reads the whole body up front, at most MAX_BODY_BYTES (413 past that, announced or
    chunked), and hands it on as an in-memory stream with its Content-Length, which Django needs
    to see a chunked body at all.

    granian gives a body read no deadline (its issue #728, closed as won't-fix), and a read
    abandoned from another thread froze its worker when we tried. So a client that stops sending
    holds the request's thread until it disconnects; one client may hold at most
    MAX_UNFINISHED_BODIES_PER_CLIENT of them, and those threads are not the work slots
    (WorkSlotMiddleware), so everyone else is still served.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cap = settings.MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if declared:
            if not declared.isascii() or not declared.isdigit():
                return refuse(request, 400, "Content-Length is not a number.", {"Connection": "close"})
            if int(declared) > cap:
                return refuse(request, 413, f"Request body exceeds {cap} bytes.", {"Connection": "close"})
            wanted = int(declared)
        elif chunked:
            wanted = cap + 1
        else:
            return self.get_response(request)
        if wanted == 0:
            return self.get_response(request)
        client = client_ip(request)
        if not _unfinished.enter(client):
            detail = f"Too many unfinished requests from this IP (at most {MAX_UNFINISHED_BODIES_PER_CLIENT} at once)."
            return refuse(request, 429, detail, {"Connection": "close", "Retry-After": "1"})
        try:
            body = request.META["wsgi.input"].read(wanted)
        finally:
            _unfinished.leave(client)
        if len(body) > cap:
            return refuse(request, 413, f"Request body exceeds {cap} bytes.", {"Connection": "close"})
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = io.BytesIO(body)
        request._read_started = False
        return self.get_response(request)


class WorkSlotMiddleware:
    """At most THREADS requests do their work (database, CPU) at once in a process.

    The server has more threads than that, for requests still arriving; those wait here only
    once their body is in, so slow clients hold waiting threads, never the work.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.slots = threading.BoundedSemaphore(settings.THREADS)

    def __call__(self, request):
        with self.slots:
            return self.get_response(request)
