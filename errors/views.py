"""The read and triage API: list, detail, resolve, reopen, projects. Views only read, or call
the lifecycle functions of models.py."""

from django.http import Http404
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Error
from .queries import filter_errors, project_names
from .serializers import ErrorDetailSerializer, ErrorListQuerySerializer, ErrorSerializer, OccurrenceSerializer


class ApiView(APIView):
    """Every authenticated /api/ view (the rate limit is tracker.limits.RateLimitMiddleware)."""


class ErrorListView(ApiView):
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
