"""API-key authentication for every /api/ route."""

import hmac

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

HEADER = "X-API-Key"


class ApiClient:
    """The authenticated caller of the API: whoever holds the key."""

    is_authenticated = True


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        supplied = request.headers.get(HEADER)
        if supplied is None:
            raise AuthenticationFailed(f"Missing {HEADER} header.")
        if not hmac.compare_digest(supplied.encode(), settings.API_KEY.encode()):
            raise AuthenticationFailed("Invalid API key.")
        return ApiClient(), None

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 rather than 403.
        return HEADER
