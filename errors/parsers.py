"""The one JSON parser the API accepts, strict about what it can later store and render."""

import json
import math
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


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


class StrictJSONParser(JSONParser):
    """JSONParser that answers 400, never 500, for any body a client can send.

    Besides malformed JSON it rejects nesting deeper than MAX_DEPTH (which also keeps the
    recursive scrubber and encoder safe), numbers that overflow to infinity, and lone UTF-16
    surrogates (valid JSON escapes that neither SQLite nor PostgreSQL can store as UTF-8).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
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
