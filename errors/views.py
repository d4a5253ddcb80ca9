"""Thin API views: validate, call one function, shape the response."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from .auth import SentryKeyAuthentication
from .ingest import Report, group_report, record_error
from .limits import client_ip
from .models import Error
from .parsers import SentryEnvelopeParser
from .queries import filter_errors, project_names
from .sentry import Envelope, report_fields, validate_event_report
from .serializers import (
    ErrorDetailSerializer,
    ErrorListQuerySerializer,
    ErrorSerializer,
    OccurrenceSerializer,
    grouping_preview,
    validate_report,
)

logger = logging.getLogger("errors.requests")


class ApiView(APIView):
    """Every authenticated /api/ view (the rate limit is errors.limits.RateLimitMiddleware)."""


class ErrorCollectionView(ApiView):
    ingest_methods = ("POST",)

    def get(self, request):
        query = ErrorListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        limit, offset = params.pop("limit"), params.pop("offset")
        if "resolved" in params:
            params["resolved"] = params["resolved"] == "true"
        errors = filter_errors(Error.objects.all(), **params)
        return Response(
            {
                "errors": ErrorSerializer(errors[offset : offset + limit], many=True).data,
                "total": errors.count(),
                "limit": limit,
                "offset": offset,
            }
        )

    def post(self, request):
        report = Report(**validate_report(request.data))
        if request.query_params.get("dry_run") in ("1", "true"):
            return Response(grouping_preview(group_report(report)))
        recorded = record_error(report)
        if recorded.created:
            body = {"status": "created", "fingerprint": recorded.fingerprint, "id": recorded.error_id}
            return Response(body, status=status.HTTP_201_CREATED)
        return Response({"status": "existing", "fingerprint": recorded.fingerprint, "count": recorded.count})


class SentryEnvelopeView(ApiView):
    """Where Sentry SDKs send events (their DSN's project number in the path): each error event
    is recorded exactly as the same report to POST /api/errors would be."""

    authentication_classes = [SentryKeyAuthentication]
    parser_classes = [SentryEnvelopeParser]
    ingest_methods = ("POST",)

    def post(self, request, project_id):
        envelope = request.data
        if not isinstance(envelope, Envelope):
            raise exceptions.ParseError("Empty body: expected a Sentry envelope.")
        number = str(int(project_id))
        project = settings.SENTRY_PROJECTS.get(number, number)
        reports = [Report(**validate_event_report(report_fields(event, project))) for event in envelope.events]
        for report in reports:
            record_error(report)
        return Response({"id": envelope.event_id})


def _get_error(pk):
    try:
        return Error.objects.get(pk=pk)
    except Error.DoesNotExist:
        raise Http404(f"Error {pk} not found.") from None


class ErrorDetailView(ApiView):
    def get(self, request, pk):
        error = _get_error(pk)
        occurrences = error.occurrences.order_by("-id")
        return Response(
            {
                "error": ErrorDetailSerializer(error).data,
                "occurrences": OccurrenceSerializer(occurrences, many=True).data,
            }
        )


class ResolveView(ApiView):
    def post(self, request, pk):
        _get_error(pk).resolve()
        return Response({"status": "resolved"})


class UnresolveView(ApiView):
    def post(self, request, pk):
        _get_error(pk).reopen()
        return Response({"status": "unresolved"})


class ProjectListView(ApiView):
    def get(self, request):
        return Response({"projects": project_names(Error.objects.all())})


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


# What a database says when it cannot be reached or is busy for now, as opposed to a query it
# refuses ("no such table"), which is a bug and answers 500 with its traceback logged.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "57P", "53")  # connection, operator intervention, resources
_TRANSIENT_MESSAGES = ("database is locked", "connection", "could not connect", "server closed", "timeout expired")


def is_database_unavailable(exc):
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES)
    text = str(exc).lower()
    return any(message in text for message in _TRANSIENT_MESSAGES)


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
        request = context["request"]
        reason = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        logger.info("rejected %s %s %s from %s: %s", response.status_code, request.method, request.path, client_ip(request), reason)
    return response


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
