"""Thin API views: validate, call one function, shape the response."""

import logging

from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from .ingest import Report, group_report, record_error
from .models import Error
from .queries import filter_errors, project_names
from .serializers import (
    ErrorDetailSerializer,
    ErrorListQuerySerializer,
    ErrorSerializer,
    OccurrenceSerializer,
    ReportSerializer,
    grouping_preview,
)

logger = logging.getLogger(__name__)


class ErrorCollectionView(APIView):
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
        body = ReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = Report(**body.validated_data)
        if request.query_params.get("dry_run") in ("1", "true"):
            return Response(grouping_preview(group_report(report)))
        recorded = record_error(report)
        if recorded.created:
            body = {"status": "created", "fingerprint": recorded.fingerprint, "id": recorded.error_id}
            return Response(body, status=status.HTTP_201_CREATED)
        return Response({"status": "existing", "fingerprint": recorded.fingerprint, "count": recorded.count})


def _get_error(pk):
    try:
        return Error.objects.get(pk=pk)
    except Error.DoesNotExist:
        raise Http404(f"Error {pk} not found.")


class ErrorDetailView(APIView):
    def get(self, request, pk):
        error = _get_error(pk)
        occurrences = error.occurrences.order_by("-id")
        return Response(
            {
                "error": ErrorDetailSerializer(error).data,
                "occurrences": OccurrenceSerializer(occurrences, many=True).data,
            }
        )


class ResolveView(APIView):
    def post(self, request, pk):
        _get_error(pk).resolve()
        return Response({"status": "resolved"})


class UnresolveView(APIView):
    def post(self, request, pk):
        _get_error(pk).reopen()
        return Response({"status": "unresolved"})


class ProjectListView(APIView):
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


def api_exception_handler(exc, context):
    """Every refusal is JSON with a `detail` sentence; invalid fields are listed in `fields`."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc)
        exc = exceptions.APIException("Database unavailable, try again shortly.")
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {"detail": "Invalid request: see fields.", "fields": _as_field_errors(exc.detail)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = exception_handler(exc, context)
    if response is not None:
        logger.info("rejected %s %s: %s", response.status_code, context["request"].path, response.data)
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
