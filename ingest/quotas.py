"""What one project and one key may send: events a minute, counted in the rate limit's cache
(exact across processes and instances with CACHE_URL=redis://…)."""

from rest_framework.exceptions import Throttled

from tracker.limits import count_request


class QuotaExceeded(Throttled):
    """429 with Retry-After and Sentry's X-Sentry-Rate-Limits, so SDKs pause sending."""

    def __init__(self, wait, scope, detail):
        super().__init__(wait=wait, detail=detail)
        self.extra_headers = {"X-Sentry-Rate-Limits": f"{int(wait)}::{scope}"}


def admit_event(request, project, grant=None):
    """Count one event against its key's and its project's per-minute quota; raise past either."""
    if grant is not None and grant.events_per_minute:
        _count(request, "key-events", grant.key_id, grant.events_per_minute, "key", "this key")
    _count(request, "project-events", project.id, project.events_per_minute, "project", "this project")


def _count(request, group, ident, per_minute, scope, whose):
    usage = count_request(request, group, f"{per_minute}/m", key=lambda _group, _request: str(ident))
    if usage is not None and usage["should_limit"]:
        wait = max(usage["time_left"], 1)
        raise QuotaExceeded(wait, scope, f"Quota exceeded: {whose} may send {per_minute} events a minute.")
