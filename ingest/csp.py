"""Content-Security-Policy violation reports, as browsers send them by themselves, turned into
the fields of a report. Pure: no Django imports.

Two formats arrive: `report-uri`'s `{"csp-report": {...}}` with hyphenated names, and the
Reporting API's (`report-to`) list of `{"type": "csp-violation", "body": {...}}` in camelCase.
A violation is grouped by its effective directive and the origin of what was blocked, so every
image from one unexpected CDN is one group, whatever its path.
"""

from urllib.parse import urlsplit

EXCEPTION_TYPE = "CSP violation"
# At most this many violations are read from one Reporting API batch; browsers send a few.
MAX_VIOLATIONS = 20

# The Reporting API's names for report-uri's fields.
_CAMEL_CASE = {
    "documentURL": "document-uri",
    "blockedURL": "blocked-uri",
    "effectiveDirective": "effective-directive",
    "originalPolicy": "original-policy",
    "sourceFile": "source-file",
    "lineNumber": "line-number",
    "columnNumber": "column-number",
    "statusCode": "status-code",
    "sample": "script-sample",
}
# Kept as the occurrence's context, with underscores.
_CONTEXT = (
    "blocked-uri", "violated-directive", "original-policy", "disposition", "source-file", "line-number",
    "column-number", "script-sample", "status-code", "referrer",
)
# What browsers put in blocked-uri when no URL was loaded.
_KEYWORDS = {"inline", "eval", "self", "data", "blob", "wasm-eval", "trusted-types-policy", "trusted-types-sink"}


class NotCspReport(ValueError):
    """The body is not a CSP violation report in either format."""


def violations(body):
    """The violations in a report body, each a dict with report-uri's hyphenated names."""
    if isinstance(body, dict) and isinstance(body.get("csp-report"), dict):
        return [body["csp-report"]]
    entries = body if isinstance(body, list) else [body]
    found = [
        {_CAMEL_CASE.get(name, name): value for name, value in entry["body"].items()}
        for entry in entries[:MAX_VIOLATIONS]
        if isinstance(entry, dict) and entry.get("type") == "csp-violation" and isinstance(entry.get("body"), dict)
    ]
    if not found:
        raise NotCspReport(
            'Expected a CSP violation report: {"csp-report": {...}} (report-uri) or a Reporting API list '
            'of {"type": "csp-violation", "body": {...}} (report-to).'
        )
    return found


def violation_fields(violation, project, environment, user_agent):
    """The fields of a POST /api/errors body for one violation."""
    directive = _directive(violation)
    blocked = blocked_source(_text(violation.get("blocked-uri")))
    if blocked in _KEYWORDS:
        message = f"Blocked {blocked} '{directive}'"
    else:
        message = f"Blocked '{directive}' from {blocked or 'an unknown source'}"
    context = {name.replace("-", "_"): violation[name] for name in _CONTEXT if violation.get(name) not in (None, "")}
    return {
        "project": project,
        "exception_type": EXCEPTION_TYPE,
        "environment": environment,
        "message": message,
        "request_url": _text(violation.get("document-uri")),
        "request_headers": {"User-Agent": user_agent} if user_agent else None,
        "extra": context or None,
        "source": "browser",
        "fingerprint": ["csp", directive, blocked or "unknown"],
    }


def _directive(violation):
    """The effective directive; older browsers send only the violated one, with its sources."""
    directive = _text(violation.get("effective-directive")) or _text(violation.get("violated-directive"))
    return directive.split(" ", 1)[0] or "unknown"


def blocked_source(uri):
    """What was blocked: a keyword (inline, eval, data, ...) as is, a URL as its origin."""
    uri = uri.strip()
    if not uri or uri in _KEYWORDS:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri[:200]
    if parts.scheme in ("data", "blob", "about", "filesystem", "mediastream"):
        return parts.scheme
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return uri[:200]


def _text(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
