"""Sentry SDKs as clients: their envelopes read, and their events turned into our reports.

An event's frames are grouped as the SDK sent them, its own `in_app` flags first, then the rules
that read the same frames from text (grouping.python, grouping.javascript), so the same bug sent
to POST /api/errors as traceback text lands in the same group. The stored traceback is those
frames written out as the text a Python traceback or a V8 stack would be. Frame variables,
breadcrumbs, request bodies and cookies are not kept: the report has no place for them, so no
secret in them is stored.
"""

from dataclasses import dataclass

from rest_framework.exceptions import ValidationError

from grouping.frames import UNKNOWN, Stack
from grouping.messages import parameterise
from grouping.sentry import JAVASCRIPT_PLATFORMS, event_frames, event_stack

from .store import Report
from .validation import FINGERPRINT_PART_CHARACTERS, FINGERPRINT_PARTS, REPORT_FIELDS, validate_report



@dataclass(frozen=True)
class Envelope:
    event_id: str | None
    events: list
    dsn: str | None = None


def parse_envelope(body, loads):
    """The error events of an envelope; its other items (sessions, transactions, ...) are skipped.

    `loads` turns one line of bytes into JSON. A malformed envelope is a ValueError saying where.
    """
    header_line, _, rest = body.partition(b"\n")
    header = loads(header_line)
    if not isinstance(header, dict):
        raise ValueError("its first line is not a JSON object")
    events = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        if not item_line.strip():
            continue
        item = loads(item_line)
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ValueError("an item header is not a JSON object with a type")
        length = item.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        elif isinstance(length, int) and not isinstance(length, bool) and 0 <= length <= len(rest):
            payload, rest = rest[:length], rest[length:].removeprefix(b"\n")
        else:
            raise ValueError(f"an item's length {length!r} does not fit the body")
        if item["type"] == "event":
            event = loads(payload)
            if not isinstance(event, dict):
                raise ValueError("an event item is not a JSON object")
            events.append(event)
    event_id, dsn = header.get("event_id"), header.get("dsn")
    return Envelope(event_id if isinstance(event_id, str) else None, events, dsn if isinstance(dsn, str) else None)


def event_report(event, project):
    """The Report that says what `event` says, for `project` (a name): its fields as a POST
    /api/errors body would give them, and the SDK's frames and fingerprint as sent."""
    fields = report_fields(event, project)
    exceptions = _exceptions(event)
    if _is_message(event, exceptions):
        stack, template = Stack(UNKNOWN), fields["exception_type"]
    else:
        stack, template = event_stack(_text(event.get("platform")), exceptions[-1]), ""
    return Report(**validate_event_report(fields), stack=stack, message_template=template, debug_ids=_debug_ids(event))


def report_fields(event, project):
    """The fields of a POST /api/errors body that say what `event` says.

    Strings are cut to the report's limits rather than refused: an SDK drops an event it is
    answered 400 for, and a long environment name is no reason to lose an error.
    """
    exceptions = _exceptions(event)
    if _is_message(event, exceptions):
        # A captured message: grouped by its template (its parameterised text), not its values.
        message, template = _message(event)
        if not message and exceptions:
            message = _text(exceptions[-1].get("value"))
        exception_type = parameterise(template or message) or "Message"
    else:
        exception_type = _text(exceptions[-1].get("type")) or "Error"
        message = _text(exceptions[-1].get("value"))
    if _text(event.get("platform")) in JAVASCRIPT_PLATFORMS:
        traceback = format_javascript_stack(exceptions[-1]) if exceptions else ""
    else:
        traceback = format_python_traceback(exceptions)
    request = _object(event.get("request"))
    user = _object(event.get("user"))
    sdk = _object(event.get("sdk"))
    context = {
        "event_id": event.get("event_id"),
        "level": event.get("level"),
        "server_name": event.get("server_name"),
        "logger": event.get("logger"),
        "tags": event.get("tags"),
        "extra": event.get("extra"),
        "sdk": " ".join(filter(None, (_text(sdk.get("name")), _text(sdk.get("version"))))),
    }
    return {
        "project": project,
        "exception_type": _fit(exception_type, "exception_type"),
        "environment": _fit(_text(event.get("environment")).strip() or "production", "environment"),
        "message": message,
        "traceback": traceback,
        "request_url": _request_url(request),
        "request_method": _fit(_text(request.get("method")).strip().upper(), "request_method"),
        "request_headers": _headers(request.get("headers")),
        "user_id": _fit(_scalar_text(user.get("id")), "user_id"),
        "extra": {name: value for name, value in context.items() if value not in (None, "", {}, [])} or None,
        "fingerprint": _fingerprint(event.get("fingerprint")),
        "release": _fit(_scalar_text(event.get("release")).strip(), "release"),
    }


def format_python_traceback(exceptions):
    """Python's own traceback text for a chain of exceptions, oldest first, as Sentry orders them."""
    blocks = []
    for exception in exceptions:
        lines = ["Traceback (most recent call last):"]
        for frame in event_frames(exception):
            lines.append(f'  File "{frame["path"]}", line {frame["line"]}, in {frame["function"] or "<module>"}')
            if frame["code"]:
                lines.append(f"    {frame['code']}")
        lines.append(_headline(exception))
        blocks.append("\n".join(lines))
        if len(blocks) < len(exceptions):
            caused = _object(exception.get("mechanism")).get("source") == "__cause__"
            blocks.append(
                "The above exception was the direct cause of the following exception:"
                if caused
                else "During handling of the above exception, another exception occurred:"
            )
    return "\n\n".join(blocks)


def format_javascript_stack(exception):
    """A V8 `error.stack` for one exception: innermost frame first, where Sentry puts it last."""
    lines = [_headline(exception)]
    for frame in reversed(event_frames(exception)):
        location = f"{frame['path']}:{frame['line']}" + (f":{frame['column']}" if frame["column"] else "")
        lines.append(f"    at {frame['function']} ({location})" if frame["function"] else f"    at {location}")
    return "\n".join(lines)


def _headline(exception):
    """`Type: value`, the last line of a Python traceback and the first of a V8 stack."""
    name, value = _text(exception.get("type")) or "Error", _text(exception.get("value"))
    return f"{name}: {value}" if value else name


def _exceptions(event):
    """The event's exceptions that are objects, oldest first: the last is the one raised."""
    exception = event.get("exception")
    if isinstance(exception, dict):
        exception = exception.get("values")
    return [value for value in exception if isinstance(value, dict)] if isinstance(exception, list) else []


def _is_message(event, exceptions):
    """A captured message: no exception, or only the synthetic one some SDKs (@sentry/node's
    captureMessage) attach to carry the call site, with no type of its own."""
    if not exceptions:
        return True
    last = exceptions[-1]
    return _object(last.get("mechanism")).get("synthetic") is True and not _text(last.get("type"))


# A page rarely loads more scripts than this; the rest of a huge debug_meta is not read.
MAX_DEBUG_IMAGES = 200


def _debug_ids(event):
    """Minified file -> debug ID, from `debug_meta.images` of type `sourcemap`."""
    images = _object(event.get("debug_meta")).get("images")
    found = {}
    for image in images[:MAX_DEBUG_IMAGES] if isinstance(images, list) else ():
        if isinstance(image, dict) and image.get("type") == "sourcemap":
            code_file, debug_id = _text(image.get("code_file")), _text(image.get("debug_id"))
            if code_file and 0 < len(debug_id) <= 36:
                found[code_file] = debug_id
    return found or None


def _fingerprint(value):
    """An SDK's fingerprint as strings, within the report's limits; anything else is none."""
    if not isinstance(value, list):
        return None
    parts = [_scalar_text(part)[:FINGERPRINT_PART_CHARACTERS] for part in value[:FINGERPRINT_PARTS]]
    return [part for part in parts if part] or None


def _message(event):
    """(the text, its template) of a captured message; `logentry` or `message`, a string or an
    object with `formatted` and `message`. A plain string is its own template."""
    for name in ("logentry", "message"):
        value = event.get(name)
        if isinstance(value, dict):
            template = _text(value.get("message"))
            text = _text(value.get("formatted")) or template
        else:
            text = template = _text(value)
        if text:
            return text, template or text
    return "", ""


def _request_url(request):
    url = _text(request.get("url"))
    query = _text(request.get("query_string"))
    return f"{url}?{query}" if url and query and "?" not in url else url


def _headers(headers):
    """Headers as one JSON object; SDKs send an object or a list of [name, value] pairs."""
    if isinstance(headers, list):
        headers = dict(pair for pair in headers if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str))
    if not isinstance(headers, dict) or not headers:
        return None
    return {str(name): value if isinstance(value, str) else str(value) for name, value in headers.items()}


def _fit(text, field):
    return text[: REPORT_FIELDS[field].max_length]


def _object(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    """A string as the report can store it (no NUL characters); anything else is empty."""
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _scalar_text(value):
    if isinstance(value, str):
        return _text(value)
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def validate_event_report(fields):
    """validate_report for what an event says, with any field still refused put back to its
    default: an SDK drops an event it is answered 400 for, so a bad detail must not lose it."""
    try:
        return validate_report(fields)
    except ValidationError as exc:
        refused = set(exc.detail) if isinstance(exc.detail, dict) else set()
    kept = {name: value for name, value in fields.items() if name not in refused or name == "project"}
    if "exception_type" in refused:
        kept["exception_type"] = "Error"
    return validate_report(kept)
