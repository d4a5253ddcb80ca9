"""API-key authentication for every /api/ route, and what each kind of key may do."""

import hmac

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

HEADER = "X-API-Key"


class ApiClient:
    """The authenticated caller of the API: whoever holds a key.

    `ingest_only` callers hold one of INGEST_API_KEYS, the kind a browser bundle carries.
    """

    is_authenticated = True

    def __init__(self, *, ingest_only):
        self.ingest_only = ingest_only


def _matches(supplied, key):
    return hmac.compare_digest(supplied.encode(), key.encode())


class ApiKeyAuthentication(BaseAuthentication):
    missing = f"Missing {HEADER} header."

    def supplied_key(self, request):
        return request.headers.get(HEADER)

    def authenticate(self, request):
        supplied = self.supplied_key(request)
        if supplied is None:
            raise AuthenticationFailed(self.missing)
        if _matches(supplied, settings.API_KEY):
            return ApiClient(ingest_only=False), None
        if any(_matches(supplied, key) for key in settings.INGEST_API_KEYS):
            return ApiClient(ingest_only=True), None
        raise AuthenticationFailed("Invalid API key.")

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 rather than 403.
        return HEADER


class SentryKeyAuthentication(ApiKeyAuthentication):
    """The key of a Sentry DSN: in X-Sentry-Auth, or in the sentry_key parameter (browser SDKs)."""

    missing = "Missing sentry_key: send the X-Sentry-Auth header or the sentry_key query parameter."

    def supplied_key(self, request):
        header = request.headers.get("X-Sentry-Auth", "")
        for part in header.removeprefix("Sentry ").split(","):
            name, _, value = part.strip().partition("=")
            if name == "sentry_key":
                return value
        return request.query_params.get("sentry_key")


class KeyAllowsRequest(BasePermission):
    """API_KEY may do anything; an ingest key only what the view lists in `ingest_methods`."""

    message = "This key can only submit reports (POST /api/errors)."

    def has_permission(self, request, view):
        client = request.user
        if client is None:
            return False
        return not client.ingest_only or request.method in getattr(view, "ingest_methods", ())
