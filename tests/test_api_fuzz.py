"""Whatever JSON a client sends to POST /api/errors, or a Sentry SDK in an envelope, the answer
is 2xx or a 4xx JSON reason."""

import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import envelope, project_key, python_event, report

FIELDS = [
    "project", "environment", "exception_type", "message", "traceback", "request_url",
    "request_method", "request_headers", "user_id", "extra", "source",
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
# Texts that look like the stacks and URLs the parsers and scrubbers dig into.
TRICKY_TEXT = st.lists(
    st.sampled_from([
        'Traceback (most recent call last):\n', '  File "/srv/a.py", line ', "  at f (https://x/a.js:", "@", ":",
        "\u00b2", "\u0661", "9" * 12, "\x00", "?token=", "#", "://u:p@h/", " line 1 > eval", "\n", "  | ", "+-+--",
    ]),
    max_size=12,
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    traceback=TRICKY_TEXT,
    overrides=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | TRICKY_TEXT, max_size=5),
    dropped=st.lists(st.sampled_from(FIELDS), max_size=3),
)
def test_any_json_report_is_answered_2xx_or_4xx_with_a_reason(api, traceback, overrides, dropped):
    cache.clear()  # each example is a fresh client as far as the rate limit is concerned
    body = {**report(traceback=traceback), **overrides}
    for field in dropped:
        body.pop(field, None)

    response = api.post("/api/errors", json.dumps(body), content_type="application/json")

    assert response.status_code in (200, 201, 400), response.content
    if response.status_code == 400:
        assert response.json()["detail"]


EVENT_PATHS = st.sampled_from([
    (), ("exception",), ("exception", "values", 0), ("exception", "values", 0, "stacktrace"),
    ("exception", "values", 0, "stacktrace", "frames", 0), ("request",), ("user",), ("logentry",), ("sdk",),
])
EVENT_KEYS = st.sampled_from([
    "type", "value", "values", "frames", "lineno", "colno", "abs_path", "filename", "function", "context_line",
    "platform", "environment", "url", "method", "headers", "query_string", "id", "message", "formatted", "tags",
    "mechanism", "stacktrace", "exception", "request", "user", "logentry", "event_id", "name", "version",
])


@pytest.fixture
def dsn_key(db):
    return project_key("my-app")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(EVENT_PATHS, EVENT_KEYS, JSON_VALUES | TRICKY_TEXT), max_size=6))
def test_any_sentry_event_is_answered_200_or_400_with_a_reason(api, dsn_key, changes):
    cache.clear()
    event = python_event()
    for path, key, value in changes:
        target = event
        for step in path:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        if isinstance(target, dict):
            target[key] = value

    response = api.generic(
        "POST", f"/api/{dsn_key.project_id}/envelope/?sentry_key={dsn_key.public_key}", envelope(event), content_type="application/x-sentry-envelope"
    )

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["detail"]


ENVELOPE_PIECES = st.lists(
    st.sampled_from([b"{}", b'{"type":"event"}', b'{"type":"event","length":', b"9", b"}", b"\n", b"[1]", b'{"a":', b"\xff"]),
    max_size=10,
).map(b"".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=ENVELOPE_PIECES | st.binary(max_size=200), encoding=st.sampled_from(["", "gzip", "deflate", "br", "x-gzip"]))
def test_any_bytes_sent_as_an_envelope_are_answered_200_or_4xx_with_a_reason(api, dsn_key, body, encoding):
    cache.clear()
    headers = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}

    response = api.generic(
        "POST", f"/api/{dsn_key.project_id}/envelope/?sentry_key={dsn_key.public_key}", body, content_type="application/x-sentry-envelope", **headers
    )

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["detail"]
