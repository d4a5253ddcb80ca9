"""From a request's report to a stored one: whose project it is, whether it may be sent, then
the one write path (store.record_error: scrub, group, store)."""

from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied

from projects.auth import existing_project_settings, project_settings

from .csp import violation_fields
from .quotas import admit_event
from .sentry import validate_event_report
from .store import Report, group_report, record_error
from .validation import validate_report


def report_for(caller, data):
    """The validated Report a caller sent: a project key's report is its own project's."""
    grant = caller.grant
    if grant is not None and isinstance(data, dict):
        sent = data.get("project")
        if sent in (None, ""):
            data = {**data, "project": grant.project.name}
        elif sent != grant.project.name:
            raise PermissionDenied("This key can only submit reports to its own project.")
    return Report(**validate_report(data))


def check_origin(request, caller):
    """A page may report with a key only from the origins that key names."""
    origin = request.headers.get("Origin")
    if origin and caller.grant is not None and not caller.grant.allows_origin(origin):
        raise PermissionDenied(f"This key does not accept reports from {origin}.")


def accept(request, caller, report):
    """Count the report against its quotas and record it; returns store.Recorded. A group
    resolved from this moment on stays resolved by this report, however late it commits."""
    received_at = timezone.now()
    project = caller.grant.project if caller.grant is not None else project_settings(report.project)
    admit_event(request, project, caller.grant)
    return record_error(report, project, received_at)


def accept_violations(request, caller, violations, environment):
    """Record each CSP violation a browser reported as a report of the key's project."""
    user_agent = request.headers.get("User-Agent", "")
    for violation in violations:
        fields = violation_fields(violation, caller.grant.project.name, environment, user_agent)
        accept(request, caller, Report(**validate_event_report(fields)))


def preview(caller, report):
    """How the report would be grouped, writing nothing (POST /api/errors?dry_run=1)."""
    if caller.grant is not None:
        return group_report(report, caller.grant.project.strategy, caller.grant.project.id, dry_run=True)
    project = existing_project_settings(report.project)
    if project is None:
        return group_report(report, settings.FINGERPRINT_STRATEGY, dry_run=True)
    return group_report(report, project.strategy, project.id, dry_run=True)
