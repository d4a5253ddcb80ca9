"""Sentry SDKs as clients: POST /api/<project>/envelope/ through the Django stack.

Envelopes are serialised by sentry-sdk's own Envelope class; tests/test_sentry_sdk.py sends
them from the SDK itself, over HTTP, to the real server.
"""

import gzip
import json
import zlib

import brotli
import pytest
from rest_framework.test import APIClient

from tests.conftest import API_KEY
from tests.factories import envelope, project_key, python_event, python_traceback, report


def sentry_auth(public_key):
    return f"Sentry sentry_key={public_key}, sentry_version=7, sentry_client=sentry.python/2.75.0"


def post(client, body, project=None, **headers):
    """POST to the envelope route of `project`'s number (by default the client's key's)."""
    number = client.key.project_id if project is None else project
    return client.generic(
        "POST", f"/api/{number}/envelope/", body, content_type="application/x-sentry-envelope", **headers
    )


def sdk_for(key):
    client = APIClient(HTTP_X_SENTRY_AUTH=sentry_auth(key.public_key))
    client.key = key
    return client


@pytest.fixture
def sdk(db):
    """A client holding the DSN key of project my-app the way sentry-python sends it."""
    return sdk_for(project_key("my-app"))


def stored(api):
    errors = api.get("/api/errors").json()["errors"]
    return [api.get(f"/api/errors/{error['id']}").json() for error in errors]


def test_event_is_recorded_with_its_culprit_frame_and_context(sdk, api):
    response = post(sdk, envelope(python_event()))

    assert response.status_code == 200
    assert response.json() == {"id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    [detail] = stored(api)
    error, occurrence = detail["error"], detail["occurrences"][0]
    assert (error["project"], error["environment"], error["exception_type"], error["message"]) == (
        "my-app", "prod", "ValueError", "invalid input"
    )
    assert error["culprit"] == {"file": "/srv/app/views.py", "line": 42, "function": "handler"}
    assert error["traceback"] == python_traceback().rstrip("\n")
    assert occurrence["request_url"] == "https://shop.example.com/api/users?page=2"
    assert occurrence["request_method"] == "POST"
    assert occurrence["request_headers"] == {"Accept": "application/json", "Authorization": "[Filtered]"}
    assert occurrence["user_id"] == "42"
    assert (occurrence["release"], error["release"]) == ("shop@1.2.0",) * 2
    assert occurrence["extra"]["tags"] == {"region": "eu"}


def test_frame_variables_cookies_bodies_and_breadcrumbs_are_not_stored(sdk, api):
    post(sdk, envelope(python_event()))

    stored_text = json.dumps(stored(api))
    assert "hunter2" not in stored_text
    assert "4242424242424242" not in stored_text
    assert "sessionid" not in stored_text


def test_same_error_through_the_sdk_and_the_api_is_one_group(sdk, api):
    created = api.post("/api/errors", report(project="my-app"), format="json")

    response = post(sdk, envelope(python_event()))

    assert response.status_code == 200
    [detail] = stored(api)
    assert detail["error"]["fingerprint"] == created.json()["fingerprint"]
    assert (detail["error"]["project"], detail["error"]["count"]) == ("my-app", 2)


def test_browser_sdk_key_in_the_query_string_and_javascript_frames(db, api):
    key = project_key("shop")
    page = APIClient()
    event = {
        "event_id": "0f6b8c3e2a1d4b5c9e7f8a6b5c4d3e2f",
        "platform": "javascript",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "Cannot read properties of undefined (reading 'id')",
                    "stacktrace": {
                        "frames": [  # Sentry lists the outermost frame first
                            {"filename": "https://shop.example.com/static/app.js", "function": "onClick",
                             "lineno": 120, "colno": 3, "in_app": True},
                            {"filename": "https://shop.example.com/static/app.js", "function": "renderCart",
                             "lineno": 17, "colno": 9, "in_app": True},
                        ]
                    },
                }
            ]
        },
        "request": {"url": "https://shop.example.com/cart", "headers": {"User-Agent": "Mozilla/5.0"}},
    }

    response = page.generic(
        "POST", f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}&sentry_version=7", envelope(event),
        content_type="text/plain;charset=UTF-8",
    )

    assert response.status_code == 200
    [detail] = stored(api)
    assert detail["error"]["source"] == "browser"
    assert detail["error"]["culprit"] == {"file": "https://shop.example.com/static/app.js", "line": 17, "function": "renderCart"}
    assert detail["error"]["traceback"].splitlines()[:2] == [
        "TypeError: Cannot read properties of undefined (reading 'id')",
        "    at renderCart (https://shop.example.com/static/app.js:17:9)",
    ]


@pytest.mark.parametrize(
    "source, separator",
    [
        ("__cause__", "The above exception was the direct cause of the following exception:"),
        ("__context__", "During handling of the above exception, another exception occurred:"),
    ],
)
def test_chained_exceptions_keep_the_chain_and_group_on_the_last(sdk, api, source, separator):
    cause = python_event(line=7)["exception"]["values"][0] | {"type": "KeyError", "value": "'sku'",
                                                                 "mechanism": {"type": "chained", "source": source}}
    event = python_event()
    event["exception"]["values"].insert(0, cause)

    post(sdk, envelope(event))

    [detail] = stored(api)
    assert detail["error"]["exception_type"] == "ValueError"
    assert detail["error"]["culprit"]["line"] == 42
    assert f"KeyError: 'sku'\n\n{separator}\n\nTraceback" in detail["error"]["traceback"]


def test_captured_messages_group_by_their_template(sdk, api):
    def message(card):
        return {"event_id": f"{card:032x}", "level": "error", "platform": "python",
                "logentry": {"message": "card %s declined", "params": [card], "formatted": f"card {card} declined"}}

    post(sdk, envelope(message(1)))
    post(sdk, envelope(message(2)))

    [detail] = stored(api)
    assert (detail["error"]["exception_type"], detail["error"]["message"], detail["error"]["count"]) == (
        "card %s declined", "card 2 declined", 2
    )


def test_a_plain_message_is_its_own_template(sdk, api):
    post(sdk, envelope({"event_id": "1" * 32, "platform": "python", "message": "nightly import skipped"}))

    [detail] = stored(api)
    assert (detail["error"]["exception_type"], detail["error"]["message"]) == ("nightly import skipped",) * 2


def test_headers_sent_as_name_value_pairs_are_stored_as_an_object(sdk, api):
    headers = [["Accept", "text/html"], ["Cookie", "sessionid=abc"], ["X-Retry", 2]]

    post(sdk, envelope(python_event(request={"url": "https://shop.example.com/", "headers": headers})))

    [detail] = stored(api)
    assert detail["occurrences"][0]["request_headers"] == {"Accept": "text/html", "Cookie": "[Filtered]", "X-Retry": "2"}


def test_long_fields_are_cut_to_the_schema_not_refused(sdk, api):
    response = post(sdk, envelope(python_event(environment="e" * 80, user={"id": "u" * 300})))

    assert response.status_code == 200
    [detail] = stored(api)
    assert detail["error"]["environment"] == "e" * 50
    assert detail["occurrences"][0]["user_id"] == "u" * 200


@pytest.mark.parametrize(
    "fields, stored_as",
    [
        ({"user": {"id": "user\x00-7"}}, ("user_id", "user-7")),
        ({"request": {"method": "ßßßßßß", "url": "https://shop.example.com/"}}, ("request_method", "SSSSSSSSSS")),
        ({"environment": "   "}, ("environment", "production")),
        ({"exception": {"values": [{"type": "\x00" * 3, "value": "boom"}]}}, ("exception_type", "Error")),
    ],
)
def test_odd_details_of_an_event_are_cut_or_defaulted_never_refused(sdk, api, fields, stored_as):
    response = post(sdk, envelope(python_event(**fields)))

    assert response.status_code == 200
    [detail] = stored(api)
    name, value = stored_as
    where = detail["error"] if name in detail["error"] else detail["occurrences"][0]
    assert where[name] == value


def test_envelopes_without_errors_are_accepted_and_store_nothing(sdk, api):
    body = envelope(items=[("session", {"sid": "x", "status": "ok"}), ("client_report", {"discarded_events": []})])

    response = post(sdk, body)

    assert response.status_code == 200
    assert stored(api) == []


@pytest.mark.parametrize(
    "encoding, compress",
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
def test_compressed_envelopes_are_read(sdk, api, encoding, compress):
    response = post(sdk, compress(envelope(python_event())), HTTP_CONTENT_ENCODING=encoding)

    assert response.status_code == 200
    assert len(stored(api)) == 1


@pytest.mark.parametrize(
    "body, headers, status, detail",
    [
        (b"not json\n", {}, 400, "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
        (b'{}\n{"length": 2}\n{}\n', {}, 400, "Not a Sentry envelope: an item header is not a JSON object with a type"),
        (b'{}\n{"type": "event", "length": 99}\n{}\n', {}, 400, "Not a Sentry envelope: an item's length 99 does not fit the body"),
        (b'{}\n{"type": "event"}\n[1]\n', {}, 400, "Not a Sentry envelope: an event item is not a JSON object"),
        (b"", {}, 400, "Empty body: expected a Sentry envelope."),
        (b"\x1f\x8b garbage", {"HTTP_CONTENT_ENCODING": "gzip"}, 400, "Body is not valid gzip: Error -3 while decompressing data: unknown compression method"),
        (gzip.compress(b"{}\n")[:-6], {"HTTP_CONTENT_ENCODING": "gzip"}, 400, "Body is not valid gzip: the compressed stream is cut short."),
        (b"{}", {"HTTP_CONTENT_ENCODING": "zstd"}, 415, "Content-Encoding 'zstd' is not supported: use gzip, deflate or br."),
        (gzip.compress(b"{}\n" + b" " * 2_000_000), {"HTTP_CONTENT_ENCODING": "gzip"}, 413, "Request body exceeds 1048576 bytes once decompressed."),
    ],
    ids=["not-json", "item-without-type", "length-past-end", "event-not-object", "empty", "bad-gzip", "cut-gzip",
         "zstd", "gzip-bomb"],
)
def test_bad_envelopes_are_refused_with_the_reason(sdk, api, body, headers, status, detail):
    response = post(sdk, body, **headers)

    assert response.status_code == status
    assert response.json()["detail"] == detail
    assert stored(api) == []


def test_envelopes_need_a_dsn_key(db, api):
    response = post(APIClient(), envelope(python_event()), project=1)

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing sentry_key: send the X-Sentry-Auth header or the sentry_key query parameter."}


@pytest.mark.parametrize(
    "case", ["another project's key", "unknown project", "deactivated key", "unknown key", "master key", "NUL in the key"]
)
def test_every_wrong_dsn_is_refused_with_one_answer(db, api, case):
    """Nobody can learn which projects exist from the answers."""
    own, other = project_key("my-app"), project_key("other-app")
    key, number = {
        "another project's key": (other.public_key, own.project_id),
        "unknown project": (own.public_key, 987),
        "deactivated key": (own.public_key, own.project_id),
        "unknown key": ("0" * 32, own.project_id),
        "master key": (API_KEY, own.project_id),
        # PostgreSQL refuses a NUL in a query's text: this must be a 401, not the database's error.
        "NUL in the key": ("0" * 31 + "\x00", own.project_id),
    }[case]
    if case == "deactivated key":
        own.is_active = False
        own.save()

    client = APIClient(HTTP_X_SENTRY_AUTH=sentry_auth(key))
    response = client.generic("POST", f"/api/{number}/envelope/", envelope(python_event()), content_type="application/x-sentry-envelope")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid DSN key for this project."}
    assert stored(api) == []
    from projects.models import Project

    assert not Project.objects.filter(name="987").exists()


def test_the_key_may_come_in_the_envelope_header_dsn(db, api):
    """As Sentry's tunnel recipe forwards envelopes: no auth header, the DSN in the envelope."""
    key = project_key("my-app")
    body = envelope(python_event())
    header, _, rest = body.partition(b"\n")
    header = json.dumps({**json.loads(header), "dsn": key.dsn}).encode()

    response = APIClient().generic(
        "POST", f"/api/{key.project_id}/envelope/", header + b"\n" + rest, content_type="application/x-sentry-envelope"
    )

    assert response.status_code == 200
    assert len(stored(api)) == 1


def test_an_envelope_carries_one_event(sdk, api):
    response = post(sdk, envelope(python_event(), python_event(line=43)))

    assert response.status_code == 400
    assert response.json()["detail"] == "An envelope carries at most one event (Sentry's rule); this one has 2."
    assert stored(api) == []


def test_gzip_reports_are_read_by_the_plain_api_too(api):
    body = gzip.compress(json.dumps(report()).encode())

    response = api.generic("POST", "/api/errors", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 201
    assert stored(api)[0]["error"]["message"] == "invalid input"


def test_a_gzip_report_may_not_inflate_past_the_body_cap(api):
    body = gzip.compress(json.dumps(report(message="x" * 300_000)).encode())

    response = api.generic("POST", "/api/errors", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds 262144 bytes once decompressed."}
