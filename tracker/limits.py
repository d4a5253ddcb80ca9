"""Request guards: who the client is, the per-IP rate limit, and the body's size and deadline."""

import ipaddress
import logging
import re

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from tracker.rsgi import BODY_INCOMPLETE, BODY_PROBLEM, BODY_TIMED_OUT, BODY_TOO_LARGE


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


def count_request(request, group, rate, key="ip"):
    """Count this request in `group` for `key` (its client IP by default); django-ratelimit's
    usage, or None if the cache is down.

    An unreachable shared cache (Redis) must not take ingestion or the admin down with it, so
    the limit is skipped, with a warning, rather than the request refused.
    """
    try:
        return get_usage(request, group=group, key=key, rate=rate, increment=True)
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
    """RATE_LIMIT per client IP on every /api/ route, counted before the body is parsed or the key
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


class RequestBodyMiddleware:
    """413 for a body over MAX_BODY_BYTES, announced or not, and 408 for one that did not
    arrive within BODY_TIMEOUT; the connection is then not reused.

    The server's transport (tracker/rsgi.py) reads bodies and says what was wrong with one;
    the answer is given here, inside the rate limit, like every other refusal.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.upload_path = re.compile(settings.UPLOAD_PATH)

    def __call__(self, request):
        cap = settings.MAX_BODY_BYTES
        if request.method == "POST" and self.upload_path.match(request.path_info):
            cap = settings.MAX_UPLOAD_REQUEST_BYTES
        problem = request.META.get(BODY_PROBLEM)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if problem == BODY_TOO_LARGE or not declared.isdigit() or int(declared) > cap:
            return refuse(request, 413, f"Request body exceeds {cap} bytes.", {"Connection": "close"})
        if problem == BODY_TIMED_OUT:
            detail = f"Request body not received within {settings.BODY_TIMEOUT:g} seconds."
            return refuse(request, 408, detail, {"Connection": "close"})
        if problem == BODY_INCOMPLETE:
            return refuse(request, 400, "Request body ended before its Content-Length.", {"Connection": "close"})
        return self.get_response(request)
