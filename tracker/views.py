"""The service's own answers: /health, and one JSON error shape for every refusal."""

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from .dberrors import is_database_unavailable
from .limits import client_ip

logger = logging.getLogger("errors.requests")


class HealthView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok"})


# --- one error shape at the boundary -------------------------------------------------------


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Database unavailable, try again shortly."


def api_exception_handler(exc, context):
    """Every refusal is JSON with a `detail` sentence; invalid fields are listed in `fields`."""
    if is_database_unavailable(exc):
        logger.error("database unavailable", exc_info=exc)
        response = exception_handler(DatabaseUnavailable(), context)
        response["Retry-After"] = "1"
        return response
    if isinstance(exc, exceptions.ValidationError):
        request = context["request"]
        fields = _as_field_errors(exc.detail)
        logger.info("rejected 400 %s %s from %s: invalid %s", request.method, request.path, client_ip(request), ", ".join(fields))
        return Response({"detail": "Invalid request: see fields.", "fields": fields}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None:
        for header, value in getattr(exc, "extra_headers", {}).items():  # e.g. X-Sentry-Rate-Limits
            response[header] = value
        request = context["request"]
        reason = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        logger.info("rejected %s %s %s from %s: %s", response.status_code, request.method, request.path, client_ip(request), reason)
    return response


def json_answer(data, status=200):
    """`data` as DRF's views render it (compact UTF-8 JSON), for the views that are not DRF's."""
    return HttpResponse(JSONRenderer().render(data), status=status, content_type="application/json")


def refusal(request, exc):
    """What api_exception_handler answers for `exc`, as a plain Django response, for the views
    that are not DRF's (the report routes); None for an exception that is a bug (a 500)."""
    response = api_exception_handler(exc, {"request": request})
    if response is None:
        return None
    answer = json_answer(response.data, status=response.status_code)
    for header, value in response.items():
        if header.lower() != "content-type":  # DRF's, before rendering
            answer[header] = value
    return answer


def _as_field_errors(detail):
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail}


def _json_error(status_code, detail):
    return JsonResponse({"detail": detail}, status=status_code)


def bad_request(request, exception):
    return _json_error(400, "Bad request.")


def permission_denied(request, exception):
    return _json_error(403, "Forbidden.")


def not_found(request, exception):
    return _json_error(404, "Not found.")


def server_error(request):
    return _json_error(500, "Internal server error.")
