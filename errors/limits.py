"""Request guards: who the client is, the per-IP rate limit, and the body-size cap."""

import io
import ipaddress
import logging

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled

logger = logging.getLogger("errors.requests")


def client_ip(request):
    """REMOTE_ADDR, or the address a trusted proxy says it forwarded for.

    X-Forwarded-For is read right to left, skipping our own trusted proxies: the first address
    that is not one of them is the client. Without trusted proxies the header is ignored, so a
    client cannot choose its own rate-limit bucket.
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


def count_request(request, group, rate, *, increment=True):
    """django-ratelimit's usage of `group` for this client IP, or None if the cache is down.

    An unreachable shared cache (Redis) must not take ingestion or the admin down with it, so
    the limit is skipped, with a warning, rather than the request refused.
    """
    try:
        return get_usage(request, group=group, key=lambda _group, req: client_ip(req), rate=rate, increment=increment)
    except (RedisError, OSError) as exc:
        logger.warning("rate limit skipped, cache unreachable: %s", exc)
        return None


def enforce_rate_limit(request):
    """Count this request against its client IP; raise Throttled (429) past RATE_LIMIT.

    Returns the usage so the response can carry X-RateLimit-* headers.
    """
    usage = count_request(request, "api", settings.RATE_LIMIT)
    if usage is not None and usage["should_limit"]:
        raise Throttled(wait=max(usage["time_left"], 1), detail="Rate limit exceeded: too many requests from this IP.")
    return usage


def rate_limit_headers(usage):
    return {
        "X-RateLimit-Limit": str(usage["limit"]),
        "X-RateLimit-Remaining": str(max(usage["limit"] - usage["count"], 0)),
        "X-RateLimit-Reset": str(max(usage["time_left"], 0)),
    }


class BodySizeLimitMiddleware:
    """413 for bodies over MAX_BODY_BYTES, whether announced by Content-Length or chunked.

    A chunked body is read at most one byte past the cap and handed on as a plain stream with a
    Content-Length, which Django's WSGI request needs to see it at all.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cap = settings.MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                too_big = int(declared) > cap
            except ValueError:
                return self._refuse(request, 400, "Content-Length is not a number.")
            if too_big:
                return self._refuse(request, 413, f"Request body exceeds {cap} bytes.")
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = request.META["wsgi.input"].read(cap + 1)
            if len(body) > cap:
                return self._refuse(request, 413, f"Request body exceeds {cap} bytes.")
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
            request._read_started = False
        return self.get_response(request)

    def _refuse(self, request, status, detail):
        logger.info("rejected %s %s %s from %s: %s", status, request.method, request.path, client_ip(request), detail)
        response = JsonResponse({"detail": detail}, status=status)
        response["Connection"] = "close"
        return response
