"""The read and triage API: list, detail, resolve, reopen, projects. Views only read, or call
the lifecycle functions of models.py."""

from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Error, NoReleaseYet
from .queries import filter_errors, project_names
from .serializers import (
    ActivitySerializer, ErrorDetailSerializer, ErrorListQuerySerializer, ErrorSerializer, MuteSerializer,
    OccurrenceSerializer, ResolveSerializer, StatsQuerySerializer,
)
from .stats import PERIODS, series


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
        errors, total = filter_errors(Error.objects.all(), **params)
        return Response(
            {
                "errors": ErrorSerializer(errors[offset : offset + limit], many=True).data,
                "total": total,
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
    """Resolve; with {"in_release": "1.0.1"} or {"in_next_release": true}, only until a report
    from that release (or the one after the newest known) arrives."""

    def post(self, request, pk):
        error = _get_error(pk)
        body = ResolveSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        try:
            error.resolve_in(
                body.validated_data.get("in_release", ""), body.validated_data["in_next_release"], actor_of(request)
            )
        except NoReleaseYet as exc:
            raise ValidationError({"in_next_release": [str(exc)]}) from None
        answer = {"status": "resolved"}
        if error.resolved_in_release:
            answer["in_release"] = error.resolved_in_release
            answer["in_next_release"] = error.resolved_in_next_release
        return Response(answer)


class UnresolveView(ApiView):
    def post(self, request, pk):
        _get_error(pk).reopen(actor_of(request))
        return Response({"status": "unresolved"})


class MuteView(ApiView):
    """Mute: counted, hidden from the default list, no alerts; with {"until": "<ISO 8601>"} or
    {"events": N} it unmutes by itself then."""

    def post(self, request, pk):
        error = _get_error(pk)
        body = MuteSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        until, events = body.validated_data.get("until"), body.validated_data.get("events")
        if until is not None and until <= timezone.now():
            raise ValidationError({"until": ["Give a time in the future."]})
        error.mute(until, events, actor_of(request))
        return Response({"status": error.status, "muted_until": error.muted_until, "muted_until_count": error.muted_until_count})


class UnmuteView(ApiView):
    def post(self, request, pk):
        error = _get_error(pk)
        error.unmute(actor_of(request))
        return Response({"status": error.status})


class StatsView(ApiView):
    """Events over time: {"buckets": [{"start", "count"}, …]}, oldest first, empty ones included."""

    def get(self, request, pk):
        error = _get_error(pk)
        query = StatsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        buckets = series([error.pk], PERIODS[period])[error.pk]
        return Response(
            {"period": period, "buckets": [{"start": start, "count": count} for start, count in buckets]}
        )


class ActivityView(ApiView):
    """Every status change of a group, newest first: what, who, when."""

    def get(self, request, pk):
        error = _get_error(pk)
        return Response({"activity": ActivitySerializer(error.activity.order_by("-at", "-id")[:200], many=True).data})


def actor_of(request):
    """Who is calling, as the activity record names them: the API's key is the only caller
    that may change a status through the API."""
    return "API key"


class ProjectListView(ApiView):
    def get(self, request):
        return Response({"projects": project_names(Error.objects.all())})
