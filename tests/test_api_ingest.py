"""POST /api/errors: grouping, counting, reopening, the occurrence cap and input validation."""

import hashlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from errors.models import Error
from tests.factories import javascript_stack, python_traceback, report


def post(api, body, **kwargs):
    return api.post("/api/errors", body, format="json", **kwargs)


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def test_new_error_is_created_with_spec_fingerprint(api):
    response = post(api, report(traceback=python_traceback(file="/srv/app/views.py", line=42)))

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created"
    assert body["fingerprint"] == md5("my-app:ValueError:/srv/app/views.py:42")
    assert isinstance(body["id"], int)
    assert set(body) == {"status", "fingerprint", "id"}


def test_same_fingerprint_is_counted_into_existing_group(api):
    first = post(api, report()).json()
    second = post(api, report(message="other text, same place"))
    third = post(api, report())

    assert second.status_code == 200
    assert second.json() == {"status": "existing", "fingerprint": first["fingerprint"], "count": 2}
    assert third.json()["count"] == 3
    assert api.get("/api/errors").json()["total"] == 1


def test_a_report_of_an_open_group_is_counted_by_one_statement_on_the_group(api):
    post(api, report())
    with CaptureQueriesContext(connection) as captured:
        second = post(api, report(message="the latest text"))

    on_the_group = [q["sql"] for q in captured.captured_queries if " errors " in f" {q['sql']} "]
    assert second.json()["count"] == 2
    assert len(on_the_group) == 1 and on_the_group[0].startswith("UPDATE errors SET count = count + 1"), on_the_group
    assert Error.objects.get().message == "the latest text"


def test_report_without_traceback_or_message_groups_by_project_and_type(api):
    response = post(api, report(traceback=..., message=...))

    assert response.json()["fingerprint"] == md5("my-app:ValueError::")


def test_reports_without_traceback_group_by_their_parameterised_message(api):
    first = post(api, report(traceback=..., message="order 17 failed: card 4242 declined")).json()
    second = post(api, report(traceback=..., message="order 18 failed: card 1881 declined")).json()
    other = post(api, report(traceback=..., message="disk full on /dev/sda1")).json()

    assert first["fingerprint"] == second["fingerprint"] != other["fingerprint"]
    assert second["count"] == 2
    assert first["fingerprint"] == md5("my-app:ValueError::\x00order <int> failed: card <int> declined")


def test_javascript_stack_fingerprints_on_first_frame(api):
    stack = javascript_stack(url="https://shop.example.com/static/app.js", line=17)
    response = post(api, report(exception_type="TypeError", traceback=stack))

    assert response.json()["fingerprint"] == md5("my-app:TypeError:https://shop.example.com/static/app.js:17")


def test_different_line_makes_a_different_group(api):
    a = post(api, report(traceback=python_traceback(line=42))).json()
    b = post(api, report(traceback=python_traceback(line=43))).json()

    assert a["fingerprint"] != b["fingerprint"]
    assert api.get("/api/errors").json()["total"] == 2


def test_project_is_part_of_the_fingerprint(api):
    a = post(api, report(project="shop")).json()
    b = post(api, report(project="blog")).json()

    assert a["fingerprint"] != b["fingerprint"]


def test_group_shows_latest_report_and_keeps_first_seen(api):
    created = post(api, report(message="first", environment="staging")).json()
    first_seen = api.get(f"/api/errors/{created['id']}").json()["error"]["first_seen"]
    post(api, report(message="second", environment="prod", traceback=python_traceback() + "\n"))

    error = api.get(f"/api/errors/{created['id']}").json()["error"]
    assert error["message"] == "second"
    assert error["environment"] == "prod"
    assert error["traceback"].endswith("\n\n")
    assert error["first_seen"] == first_seen
    assert error["last_seen"] > first_seen


def test_resolved_error_reopens_on_new_report(api):
    created = post(api, report()).json()
    assert api.post(f"/api/errors/{created['id']}/resolve").json() == {"status": "resolved"}
    assert api.get(f"/api/errors/{created['id']}").json()["error"]["resolved"] is True

    response = post(api, report())

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert api.get(f"/api/errors/{created['id']}").json()["error"]["resolved"] is False


def test_only_newest_five_occurrences_are_kept(api):
    error_id = post(api, report(user_id="user-1")).json()["id"]
    for n in range(2, 8):
        post(api, report(user_id=f"user-{n}"))

    detail = api.get(f"/api/errors/{error_id}").json()
    assert detail["error"]["count"] == 7
    assert [o["user_id"] for o in detail["occurrences"]] == ["user-7", "user-6", "user-5", "user-4", "user-3"]


def test_environment_defaults_to_production(api):
    error_id = post(api, report(environment=...)).json()["id"]

    assert api.get(f"/api/errors/{error_id}").json()["error"]["environment"] == "production"


def test_minimal_report_is_accepted(api):
    response = post(api, {"project": "p", "exception_type": "E"})

    assert response.status_code == 201
    occurrence = api.get(f"/api/errors/{response.json()['id']}").json()["occurrences"][0]
    assert occurrence["request_headers"] is None
    assert occurrence["extra"] is None


def test_occurrence_keeps_request_context_as_json_objects(api):
    error_id = post(
        api,
        report(
            request_url="/api/users?page=2",
            request_method="post",
            request_headers={"Accept": "application/json", "X-Count": 3},
            extra={"request_id": "abc123", "nested": {"a": [1, 2]}},
        ),
    ).json()["id"]

    occurrence = api.get(f"/api/errors/{error_id}").json()["occurrences"][0]
    assert occurrence["request_url"] == "/api/users?page=2"
    assert occurrence["request_method"] == "POST"
    assert occurrence["request_headers"] == {"Accept": "application/json", "X-Count": 3}
    assert occurrence["extra"] == {"request_id": "abc123", "nested": {"a": [1, 2]}}
    assert occurrence["user_id"] == "user-42"
    assert occurrence["environment"] == "prod"
    assert occurrence["message"] == "invalid input"


def test_source_is_browser_for_javascript_stack_with_web_urls(api):
    error_id = post(api, report(exception_type="TypeError", traceback=javascript_stack())).json()["id"]

    assert api.get(f"/api/errors/{error_id}").json()["error"]["source"] == "browser"


def test_source_is_backend_for_python_and_node_stacks(api):
    node_stack = "TypeError: x\n    at handler (/srv/app/server.js:10:5)\n"
    python_id = post(api, report()).json()["id"]
    node_id = post(api, report(exception_type="TypeError", traceback=node_stack)).json()["id"]

    assert api.get(f"/api/errors/{python_id}").json()["error"]["source"] == "backend"
    assert api.get(f"/api/errors/{node_id}").json()["error"]["source"] == "backend"


def test_explicit_source_wins(api):
    error_id = post(api, report(source="worker")).json()["id"]

    assert api.get(f"/api/errors/{error_id}").json()["error"]["source"] == "worker"


# --- invalid input: 400/415 with a reason, nothing stored ----------------------------------


@pytest.mark.parametrize(
    "body, bad_field",
    [
        ({"exception_type": "E"}, "project"),
        ({"project": "p"}, "exception_type"),
        (report(project=""), "project"),
        (report(project="   "), "project"),
        (report(project=123), "project"),
        (report(project="x" * 101), "project"),
        (report(environment="e" * 51), "environment"),
        (report(exception_type="E" * 201), "exception_type"),
        (report(request_method="M" * 11), "request_method"),
        (report(user_id="u" * 201), "user_id"),
        (report(message=["not", "a", "string"]), "message"),
        (report(traceback={"not": "text"}), "traceback"),
        (report(request_headers="Accept: */*"), "request_headers"),
        (report(extra=[1, 2]), "extra"),
        (report(source="s" * 21), "source"),
        (report(message="nul \x00 byte"), "message"),
    ],
)
def test_invalid_field_is_rejected_by_name_and_nothing_stored(api, body, bad_field):
    response = post(api, body)

    assert response.status_code == 400
    assert bad_field in response.json()["fields"]
    assert response.json()["detail"]
    assert api.get("/api/errors").json()["total"] == 0


def test_every_bad_field_is_named_at_once(api):
    response = post(api, {"project": "", "exception_type": "E" * 300, "extra": "x"})

    assert set(response.json()["fields"]) == {"project", "exception_type", "extra"}


def test_non_object_body_is_rejected(api):
    response = post(api, [report()])

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["fields"]


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"project": "p", "exception_type": "E", "extra": {"n": NaN}}',
        b'{"project": "p", "exception_type": "E", "extra": {"n": 1e999}}',
        b'{"project": "p", "exception_type": "E", "message": "\\ud800"}',
        b'{"project": "p", "exception_type": "E", "extra": {"k": "\\udfff"}}',
        b'{"project": "p", "exception_type": "E", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"\xff\xfe\xfa not utf-8",
        b'{"project": "p", "exception_type": "E", "extra": {"n": ' + b"9" * 5000 + b"}}",
        b'{"project": "p", "exception_type": "E", "message": "\xed\xa0\x80"}',
        '{"project": "p", "exception_type": "E"}'.encode("utf-16"),
    ],
    ids=[
        "malformed", "nan", "infinity", "lone-surrogate", "surrogate-in-extra", "deep-nesting", "bad-utf8", "huge-int",
        "utf8-encoded-surrogate", "utf-16-body",
    ],
)
def test_body_that_cannot_be_stored_is_rejected_with_400(api, raw):
    response = api.post("/api/errors", raw, content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert api.get("/api/errors").json()["total"] == 0


def test_escaped_surrogate_pair_is_one_character_and_stored(api):
    raw = b'{"project": "p", "exception_type": "E", "message": "boom \\ud83d\\udca5", "extra": {"k": "\\uD83D\\uDE00"}}'

    error_id = api.post("/api/errors", raw, content_type="application/json").json()["id"]

    detail = api.get(f"/api/errors/{error_id}").json()
    assert detail["error"]["message"] == "boom \U0001f4a5"
    assert detail["occurrences"][0]["extra"] == {"k": "\U0001f600"}


@pytest.mark.parametrize("line", ["99999999999", "9" * 5000, "\u00b2"], ids=["beyond-int32", "5000-digits", "superscript"])
def test_traceback_with_an_impossible_line_number_is_stored_without_it(api, line):
    traceback = f'Traceback (most recent call last):\n  File "/srv/app/views.py", line {line}, in h\nValueError: x'
    js_stack = f"TypeError: x\n    at h (https://shop.example/app.js:{line}:7)"

    python_id = post(api, report(traceback=traceback)).json()["id"]
    js_response = post(api, report(traceback=js_stack, exception_type="TypeError"))

    assert js_response.status_code == 201
    culprit = api.get(f"/api/errors/{python_id}").json()["error"]["culprit"]
    assert culprit is None or culprit["line"] is None
    assert api.get("/api/errors").json()["total"] == 2


def test_fields_are_normalised_as_documented(api):
    body = report(project="  shop  ", request_method=" post ", message="  kept as sent  ", extra=None, environment=...)

    error_id = post(api, body).json()["id"]

    detail = api.get(f"/api/errors/{error_id}").json()
    assert detail["error"]["project"] == "shop"
    assert detail["error"]["message"] == "  kept as sent  "
    assert detail["error"]["environment"] == "production"
    assert detail["occurrences"][0]["request_method"] == "POST"
    assert detail["occurrences"][0]["extra"] is None


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*", "application/json"])
def test_api_answers_json_whatever_the_client_accepts(api, accept):
    created = post(api, report(), HTTP_ACCEPT=accept)
    listed = api.get("/api/errors", HTTP_ACCEPT=accept)

    assert created.status_code == 201
    assert created["Content-Type"] == "application/json"
    assert listed.status_code == 200
    assert listed.json()["total"] == 1


def test_non_json_content_type_is_415(api):
    response = api.post("/api/errors", "project=p&exception_type=E", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_an_over_long_content_type_is_415_not_parsed(api):
    """As DRF refuses one: a Content-Type past 256 characters is not matched against JSON."""
    response = api.post("/api/errors", json.dumps(report()), content_type="application/json; x=" + "a" * 300)

    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    assert api.get("/api/errors").json()["total"] == 0


def test_the_route_names_post_among_its_methods(api):
    created = api.post("/api/errors", report(), format="json")
    refused = api.put("/api/errors", report(), format="json")

    assert created["Allow"] == refused["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert refused.status_code == 405


def test_answers_are_compact_utf8_json(api):
    """As the rest of the API answers: the preview of a non-ASCII frame is UTF-8, not \\u escapes."""
    traceback = 'Traceback (most recent call last):\n  File "/app/café.py", line 3, in créer\n    x()\nValueError: no\n'
    response = api.post("/api/errors?dry_run=1", report(traceback=traceback), format="json")

    assert response.status_code == 200
    assert "créer".encode() in response.content
    assert b'": "' not in response.content


def test_empty_body_is_400_naming_required_fields(api):
    response = api.post("/api/errors", b"", content_type="application/json")

    assert response.status_code == 400
    assert {"project", "exception_type"} <= set(response.json()["fields"])


def test_ingestion_goes_on_when_the_rate_limit_cache_is_down(api, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }

    response = post(api, report())

    assert response.status_code == 201
    assert "X-RateLimit-Remaining" not in response


def test_a_count_past_32_bits_keeps_counting(api):
    error_id = post(api, report()).json()["id"]
    Error.objects.filter(pk=error_id).update(count=2**31 - 1)

    response = post(api, report())

    assert response.json()["count"] == 2**31
    assert api.get(f"/api/errors/{error_id}").json()["error"]["count"] == 2**31


def test_a_query_the_database_refuses_is_a_500_with_its_traceback_logged(api, caplog):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE error_occurrences")
    api.raise_request_exception = False

    response = post(api, report())

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert any(record.exc_info and "error_occurrences" in str(record.exc_info[1]) for record in caplog.records)
