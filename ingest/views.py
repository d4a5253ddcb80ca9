"""The routes reports arrive on: POST /api/errors and Sentry's envelope route. Each parses,
calls the pipeline, and shapes the answer."""

from rest_framework import exceptions, status
from rest_framework.response import Response

from errors.views import ApiView, ErrorListView
from projects.auth import SentryKeyAuthentication

from .parsers import SentryEnvelopeParser
from .pipeline import accept, check_origin, preview, report_for
from .sentry import Envelope, event_report
from .validation import grouping_preview


class ReportCollectionView(ErrorListView):
    """/api/errors: GET lists groups (errors.views), POST records a report."""

    ingest_methods = ("POST",)

    def post(self, request):
        check_origin(request, request.user)
        report = report_for(request.user, request.data)
        if request.query_params.get("dry_run") in ("1", "true"):
            return Response(grouping_preview(preview(request.user, report)))
        recorded = accept(request, request.user, report)
        if recorded.created:
            body = {"status": "created", "fingerprint": recorded.fingerprint, "id": recorded.error_id}
            return Response(body, status=status.HTTP_201_CREATED)
        return Response({"status": "existing", "fingerprint": recorded.fingerprint, "count": recorded.count})


class SentryEnvelopeView(ApiView):
    """Where Sentry SDKs send events (their DSN's project number in the path): the error event
    is recorded exactly as the same report to POST /api/errors would be."""

    authentication_classes = [SentryKeyAuthentication]
    parser_classes = [SentryEnvelopeParser]
    ingest_methods = ("POST",)

    def post(self, request, project_id):
        envelope = request.data
        if not isinstance(envelope, Envelope):
            raise exceptions.ParseError("Empty body: expected a Sentry envelope.")
        if len(envelope.events) > 1:
            raise exceptions.ParseError(
                f"An envelope carries at most one event (Sentry's rule); this one has {len(envelope.events)}."
            )
        check_origin(request, request.user)
        grant = request.user.grant
        for event in envelope.events:
            accept(request, request.user, event_report(event, grant.project.name))
        return Response({"id": envelope.event_id})
