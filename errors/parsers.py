"""The one JSON parser the API accepts, strict about what it can later store and render."""

import json
import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(JSONParser):
    """JSONParser that answers 400, never 500, for any body a client can send.

    Besides malformed JSON it rejects nesting deep enough to exhaust the decoder's recursion,
    numbers that overflow to infinity, and lone UTF-16 surrogates (valid JSON escapes that
    neither SQLite nor PostgreSQL can store as UTF-8).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = json.loads(raw, parse_float=_finite_float, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply")
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}")
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - string contains a lone surrogate escape (\\ud800-\\udfff)")
        return data
