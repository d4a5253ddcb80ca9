"""The routes reports arrive on: POST /api/errors, and Sentry's envelope, store and security
routes. Each parses, calls the pipeline, and shapes the answer.

A report's POST is a plain Django view: what DRF's request, dispatch and response layers did
for it is done here by the key check, the body's readers (ingest.parsers, with DRF's media-type
rules), DRF's renderer and its refusal shape (tracker.views), at 10-25 % less CPU a report
(bench/README.md). Every other method on these routes (the error list, a GET to a Sentry
route) is answered by a DRF view.
"""

import functools

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ParseError

from errors.views import ApiView, ErrorListView
from projects.auth import HEADER, SentryKeyAuthentication, api_key_caller, dsn_caller, dsn_key, sentry_key_sent
from tracker.views import json_answer, refusal

from . import csp
from .parsers import json_report, security_report, sentry_envelope, sentry_event
from .pipeline import accept, accept_violations, check_origin, preview, report_for
from .sentry import event_report
from .validation import grouping_preview


class SentryRouteView(ApiView):
    """What a Sentry route answers to methods other than POST: 401 without its project's DSN
    key, 403 with it (a DSN key may only send reports)."""

    authentication_classes = [SentryKeyAuthentication]


def report_route(other_methods):
    """A view that takes POST to the decorated function and every other method to the DRF view
    class `other_methods`; what the function raises is answered as DRF's views answer it.
    Every answer's `Allow` names POST beside the DRF view's methods, as one DRF view's would."""

    class OtherMethods(other_methods):
        @property
        def allowed_methods(self):
            # Django answers HEAD with `get` (View.setup), which an instance not yet set up lacks.
            takes = {"post", "head"} if hasattr(self, "get") else {"post"}
            return [name.upper() for name in self.http_method_names if name in takes or hasattr(self, name)]

    other_view = OtherMethods.as_view()
    allow = ", ".join(OtherMethods().allowed_methods)

    def decorate(post):
        @csrf_exempt
        @functools.wraps(post)
        def view(request, **kwargs):
            if request.method != "POST":
                return other_view(request, **kwargs)
            try:
                answer = post(request, **kwargs)
            except Exception as exc:
                answer = refusal(request, exc)
                if answer is None:
                    raise
            answer["Allow"] = allow
            return answer

        return view

    return decorate


@report_route(ErrorListView)
def report_collection(request):
    """POST /api/errors records a report (GET lists groups: errors.views)."""
    caller = api_key_caller(request.headers.get(HEADER))
    check_origin(request, caller)
    report = report_for(caller, json_report(request))
    if request.GET.get("dry_run") in ("1", "true"):
        return json_answer(grouping_preview(preview(caller, report)))
    recorded = accept(request, caller, report)
    if recorded.created:
        body = {"status": "created", "fingerprint": recorded.fingerprint, "id": recorded.error_id}
        return json_answer(body, status=201)
    return json_answer({"status": "existing", "fingerprint": recorded.fingerprint, "count": recorded.count})


@report_route(SentryRouteView)
def sentry_envelope_route(request, project_id):
    """Where Sentry SDKs send events (their DSN's project number in the path): the error event
    is recorded exactly as the same report to POST /api/errors would be."""
    supplied, envelope = sentry_key_sent(request), None
    if supplied is None:  # a tunnel's envelope names its DSN in its first line
        envelope = sentry_envelope(request)
        supplied = dsn_key(envelope.dsn if envelope is not None else None)
    caller = dsn_caller(supplied, project_id)
    if envelope is None:
        envelope = sentry_envelope(request)
    if envelope is None:
        raise ParseError("Empty body: expected a Sentry envelope.")
    if len(envelope.events) > 1:
        raise ParseError(
            f"An envelope carries at most one event (Sentry's rule); this one has {len(envelope.events)}."
        )
    check_origin(request, caller)
    for event in envelope.events:
        accept(request, caller, event_report(event, caller.grant.project.name))
    return json_answer({"id": envelope.event_id})


@report_route(SentryRouteView)
def sentry_store_route(request, project_id):
    """Sentry's route before envelopes, still used by older SDKs and many tools: one JSON event."""
    caller = dsn_caller(sentry_key_sent(request), project_id)
    check_origin(request, caller)
    event = sentry_event(request)
    accept(request, caller, event_report(event, caller.grant.project.name))
    event_id = event.get("event_id")
    return json_answer({"id": event_id if isinstance(event_id, str) else None})


@report_route(SentryRouteView)
def security_report_route(request, project_id):
    """Where browsers send Content-Security-Policy violations (the policy's report-uri or
    report-to, with the DSN key as ?sentry_key=): each violation is one report."""
    caller = dsn_caller(sentry_key_sent(request), project_id)
    check_origin(request, caller)
    try:
        violations = csp.violations(security_report(request))
    except csp.NotCspReport as exc:
        raise ParseError(str(exc)) from None
    environment = request.GET.get("sentry_environment", "").strip() or "production"
    accept_violations(request, caller, violations, environment)
    answer = HttpResponse(status=204)
    del answer["Content-Type"]  # no body, as DRF answers a 204
    return answer
