"""The routes reports arrive on: POST /api/errors, and Sentry's envelope, store and security
routes. Each parses, calls the pipeline, and shapes the answer."""

from rest_framework import exceptions, status
from rest_framework.response import Response

from errors.views import ApiView, ErrorListView
from projects.auth import SentryKeyAuthentication

from . import csp
from .parsers import SecurityReportParser, SentryEnvelopeParser, SentryEventParser
from .pipeline import accept, accept_violations, check_origin, preview, report_for
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


class SentryStoreView(ApiView):
    """Sentry's route before envelopes, still used by older SDKs and many tools: one JSON event."""

    authentication_classes = [SentryKeyAuthentication]
    parser_classes = [SentryEventParser]
    ingest_methods = ("POST",)

    def post(self, request, project_id):
        check_origin(request, request.user)
        event = request.data
        if not event:  # DRF does not call the parser for an empty body
            raise exceptions.ParseError("Empty body: expected one Sentry event.")
        accept(request, request.user, event_report(event, request.user.grant.project.name))
        event_id = event.get("event_id")
        return Response({"id": event_id if isinstance(event_id, str) else None})


class SecurityReportView(ApiView):
    """Where browsers send Content-Security-Policy violations (the policy's report-uri or
    report-to, with the DSN key as ?sentry_key=): each violation is one report."""

    authentication_classes = [SentryKeyAuthentication]
    parser_classes = [SecurityReportParser]
    ingest_methods = ("POST",)

    def post(self, request, project_id):
        check_origin(request, request.user)
        try:
            violations = csp.violations(request.data)
        except csp.NotCspReport as exc:
            raise exceptions.ParseError(str(exc)) from None
        environment = request.query_params.get("sentry_environment", "").strip() or "production"
        accept_violations(request, request.user, violations, environment)
        return Response(status=status.HTTP_204_NO_CONTENT)
