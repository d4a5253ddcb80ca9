"""The request bodies the API accepts: strict JSON, optionally compressed, Sentry envelopes and
events, and browsers' CSP reports. StrictJSONParser is DRF's for the read and triage API; the
report routes, plain Django views, read theirs with the functions below it."""

import base64
import binascii
import json
import math
import re
import zlib

import brotli
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.utils.mediatypes import media_type_matches

from .sentry import parse_envelope


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


MAX_DEPTH = 64

# In strictly decoded UTF-8 text, a UTF-16 surrogate can only arrive as a \uD800-\uDFFF escape.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _deeper_than(data, limit):
    """Whether nesting exceeds `limit`, checked without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def loads_strict(raw):
    """JSON from UTF-8 bytes, or ParseError (400) saying what is wrong with it.

    Besides malformed JSON it rejects nesting deeper than MAX_DEPTH (which also keeps the
    recursive scrubber and encoder safe), numbers that overflow to infinity, and lone UTF-16
    surrogates (valid JSON escapes that neither SQLite nor PostgreSQL can store as UTF-8).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"JSON parse error - body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
    except RecursionError:
        raise ParseError("JSON parse error - nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc
    if _deeper_than(data, MAX_DEPTH):
        raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(data)
    return data


def _refuse_lone_surrogates(data):
    """Paired escapes decode to one character; a lone one leaves a string UTF-8 cannot encode."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("JSON parse error - string contains a lone surrogate escape (\\ud800-\\udfff)") from None


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def decoded_body(raw, encoding, limit):
    """The request body with its Content-Encoding (gzip, deflate or br) undone.

    A compressed body is inflated to at most `limit` bytes, so a small bomb cannot take the
    process's memory; past that it is a 413, and a corrupt stream a 400.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = zlib.decompressobj(wbits=(16 if encoding != "deflate" else 0) + zlib.MAX_WBITS)
            body = inflater.decompress(raw, limit + 1)
            finished = inflater.eof
        elif encoding == "br":
            inflater = brotli.Decompressor()
            body = inflater.process(raw, output_buffer_limit=limit + 1)
            finished = inflater.is_finished()
        else:
            raise UnsupportedMediaType(encoding, f"Content-Encoding {encoding!r} is not supported: use gzip, deflate or br.")
    except (zlib.error, brotli.error) as exc:
        raise ParseError(f"Body is not valid {encoding}: {exc}") from None
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes once decompressed.")
    if not finished:
        raise ParseError(f"Body is not valid {encoding}: the compressed stream is cut short.")
    return body


# DRF's own cap (DefaultContentNegotiation): a longer Content-Type is refused, not parsed.
MAX_CONTENT_TYPE_LENGTH = 256


def _request_body(request, limit, media_type="*/*"):
    """The request's body, decoded, if its Content-Type is `media_type`; 415 otherwise."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH or not media_type_matches(media_type, content_type):
        raise UnsupportedMediaType(content_type[:MAX_CONTENT_TYPE_LENGTH])
    return decoded_body(request.body, request.META.get("HTTP_CONTENT_ENCODING", ""), limit)


class StrictJSONParser(JSONParser):
    """JSONParser that answers 400, never 500, for any body a client can send (see loads_strict)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = parser_context["request"].META.get("HTTP_CONTENT_ENCODING", "")
        return loads_strict(decoded_body(raw, encoding, settings.MAX_BODY_BYTES))


def json_report(request):
    """The JSON body of POST /api/errors, as DRF's StrictJSONParser would give it: {} for an
    empty body, 415 for one that is not application/json."""
    if not request.body:
        return {}
    return loads_strict(_request_body(request, settings.MAX_BODY_BYTES, StrictJSONParser.media_type))


def sentry_envelope(request):
    """A Sentry SDK's envelope, whatever Content-Type it was sent as (browsers send text/plain);
    None for an empty body."""
    if not request.body:
        return None
    body = _request_body(request, settings.MAX_ENVELOPE_BYTES)
    try:
        return parse_envelope(body, loads_strict)
    except ValueError as exc:
        raise ParseError(f"Not a Sentry envelope: {exc}") from None


def _legacy_event_json(body, limit):
    """The JSON of an event that very old SDKs send base64-encoded and zlib-compressed."""
    try:
        compressed = base64.b64decode(body, validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, limit + 1)
    except (binascii.Error, zlib.error, ValueError):
        raise ParseError("Not a Sentry event: expected a JSON object, or base64 of zlib-compressed JSON.") from None
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes once decompressed.")
    if not inflater.eof:
        raise ParseError("Not a Sentry event: the compressed event is cut short.")
    return raw


def sentry_event(request):
    """One Sentry event, as the legacy store route takes it: JSON whatever the Content-Type
    (raven-js sends text/plain), compressed by Content-Encoding (raven-python: deflate) or sent
    as base64 of zlib-compressed JSON."""
    if not request.body:
        raise ParseError("Empty body: expected one Sentry event.")
    limit = settings.MAX_ENVELOPE_BYTES
    body = _request_body(request, limit)
    if body.strip() and not body.lstrip().startswith((b"{", b"[")):
        body = _legacy_event_json(body, limit)
    event = loads_strict(body) if body.strip() else None
    if not isinstance(event, dict) or not event:
        raise ParseError("Not a Sentry event: expected one JSON object.")
    return event


def security_report(request):
    """A browser's CSP report: application/csp-report, application/reports+json or plain JSON;
    {} for an empty body (which ingest.csp refuses, saying what a report looks like)."""
    if not request.body:
        return {}
    body = _request_body(request, settings.MAX_BODY_BYTES)
    if not body.strip():
        raise ParseError("Empty body: expected a CSP violation report.")
    return loads_strict(body)
