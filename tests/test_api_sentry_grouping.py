"""How Sentry events are grouped, through the envelope, store and security routes: the SDK's own
frames and flags, its fingerprint, captured messages, and CSP reports as browsers send them.

tests/test_sentry_grouping_*.py send the same scenarios from the real SDKs and Chromium."""

import base64
import copy
import json
import zlib

import pytest

from tests.factories import envelope, project_key, python_event, python_traceback, report
from tests.test_api_sentry import post, sdk_for, stored


@pytest.fixture
def sdk(db):
    return sdk_for(project_key("my-app"))


def site_packages_event(function, line):
    """json.loads failing inside an app installed into site-packages, with `in_app_include`."""
    event = python_event()
    event["exception"]["values"][0].update(type="JSONDecodeError", value="Expecting value: line 1 column 1 (char 0)")
    event["exception"]["values"][0]["stacktrace"]["frames"] = [
        {"abs_path": "/venv/lib/python3.11/site-packages/shopcore/checkout.py", "filename": "shopcore/checkout.py",
         "module": "shopcore.checkout", "function": function, "lineno": line, "in_app": True},
        {"abs_path": "/usr/lib/python3.11/json/__init__.py", "filename": "json/__init__.py", "module": "json",
         "function": "loads", "lineno": 346, "in_app": False},
        {"abs_path": "/usr/lib/python3.11/json/decoder.py", "filename": "json/decoder.py", "module": "json.decoder",
         "function": "decode", "lineno": 337, "in_app": False},
    ]
    return event


def node_event(frames, type_="Error", value="ENOENT: no such file or directory", mechanism=None):
    return {
        "event_id": "a" * 32,
        "platform": "node",
        "exception": {"values": [{
            "type": type_, "value": value, "mechanism": mechanism or {"type": "generic", "handled": True},
            "stacktrace": {"frames": frames},
        }]},
    }


def test_the_sdks_in_app_flags_pick_the_culprit_in_site_packages(sdk, api):
    post(sdk, envelope(site_packages_event("read_cart", 12)))
    post(sdk, envelope(site_packages_event("read_coupon", 30)))

    culprits = sorted((d["error"]["culprit"]["file"], d["error"]["culprit"]["line"]) for d in stored(api))
    assert culprits == [
        ("/venv/lib/python3.11/site-packages/shopcore/checkout.py", 12),
        ("/venv/lib/python3.11/site-packages/shopcore/checkout.py", 30),
    ]


def test_without_sdk_flags_site_packages_frames_are_library_frames(sdk, api):
    event = site_packages_event("read_cart", 12)
    for frame in event["exception"]["values"][0]["stacktrace"]["frames"]:
        del frame["in_app"]

    post(sdk, envelope(event))

    [detail] = stored(api)
    assert detail["error"]["culprit"]["file"] == "/usr/lib/python3.11/json/decoder.py"


def test_node_runtime_frames_are_never_the_culprit(sdk, api):
    frames = [
        {"filename": "/srv/app/config.js", "module": "config", "function": "loadConfig", "lineno": 7, "colno": 15,
         "in_app": True},
        {"filename": "node:fs", "module": "fs", "function": "Object.readFileSync", "lineno": 448, "colno": 20,
         "in_app": False},
    ]

    post(sdk, envelope(node_event(frames)))

    [detail] = stored(api)
    assert detail["error"]["culprit"] == {"file": "/srv/app/config.js", "line": 7, "function": "loadConfig"}
    assert "at Object.readFileSync (node:fs:448:20)" in detail["error"]["traceback"]


def test_an_event_and_the_same_traceback_as_text_are_one_group(sdk, api):
    post(sdk, envelope(python_event()))
    text = api.post("/api/errors", report(traceback=python_traceback()), format="json").json()

    assert text == {"status": "existing", "fingerprint": text["fingerprint"], "count": 2}


def test_a_synthetic_exception_of_a_captured_message_is_stored_as_the_message(sdk, api):
    frames = [{"filename": "/srv/app/checkout.js", "function": "report", "lineno": 3, "colno": 9, "in_app": True}]
    event = node_event(frames, type_=None, value="checkout latency above 2s",
                       mechanism={"type": "generic", "synthetic": True, "handled": True})
    event.update(message="checkout latency above 2s", level="warning")
    del event["exception"]["values"][0]["type"]

    post(sdk, envelope(event))

    [detail] = stored(api)
    error = detail["error"]
    assert (error["exception_type"], error["message"], error["culprit"]) == (
        "checkout latency above 2s", "checkout latency above 2s", None
    )


def test_messages_with_different_values_are_one_group_named_by_their_template(sdk, api):
    for order in (17, 18):
        post(sdk, envelope({"event_id": f"{order:032x}", "platform": "python", "level": "error",
                            "message": f"order {order} failed: payment timeout"}))

    [detail] = stored(api)
    assert (detail["error"]["exception_type"], detail["error"]["message"], detail["error"]["count"]) == (
        "order <int> failed: payment timeout", "order 18 failed: payment timeout", 2
    )


def test_an_sdk_fingerprint_groups_different_errors_together(sdk, api):
    post(sdk, envelope(python_event(line=42, fingerprint=["payment-gateway-timeout"])))
    other = python_event(line=90, fingerprint=["payment-gateway-timeout"])
    other["exception"]["values"][0]["type"] = "TimeoutError"
    post(sdk, envelope(other))

    [detail] = stored(api)
    assert detail["error"]["count"] == 2


def test_default_in_an_sdk_fingerprint_is_our_own_grouping(sdk, api):
    post(sdk, envelope(python_event(fingerprint=["{{ default }}", "tenant-a"])))
    post(sdk, envelope(python_event(fingerprint=["{{ default }}", "tenant-b"])))
    post(sdk, envelope(python_event(fingerprint=["{{default}}"])))
    post(sdk, envelope(python_event()))

    counts = sorted(detail["error"]["count"] for detail in stored(api))
    assert counts == [1, 1, 2]


def test_post_api_errors_takes_a_fingerprint_too(api):
    first = api.post("/api/errors", report(fingerprint=["nightly-import"], traceback=python_traceback(line=1)), format="json")
    second = api.post("/api/errors", report(fingerprint=["nightly-import"], traceback=python_traceback(line=2)), format="json")

    assert (first.status_code, second.status_code, second.json()["count"]) == (201, 200, 2)
    bad = api.post("/api/errors", report(fingerprint="nightly-import"), format="json")
    assert bad.status_code == 400 and "fingerprint" in bad.json()["fields"]


def frames_of(*calls):
    return [{"filename": f"{module.replace('.', '/')}.py", "abs_path": f"/srv/app/{module.replace('.', '/')}.py",
             "module": module, "function": function, "lineno": line} for module, function, line in calls]


def event_with(frames, **fields):
    event = python_event(**fields)
    event["exception"]["values"][0]["stacktrace"]["frames"] = frames
    return event


@pytest.mark.parametrize(
    "strategy, groups_for_moved_code, groups_for_two_callers", [("line", 2, 1), ("function", 1, 1), ("stack", 1, 2)]
)
def test_strategies_for_moved_code_and_a_shared_helper(db, api, strategy, groups_for_moved_code, groups_for_two_callers):
    moved = sdk_for(project_key("moved", fingerprint_strategy=strategy))
    post(moved, envelope(event_with(frames_of(("shop.billing", "charge", 10), ("shop.errors", "fail", 3)))))
    post(moved, envelope(event_with(frames_of(("shop.billing", "charge", 14), ("shop.errors", "fail", 5)))))
    callers = sdk_for(project_key("callers", fingerprint_strategy=strategy))
    post(callers, envelope(event_with(frames_of(("shop.billing", "charge", 10), ("shop.errors", "fail", 3)))))
    post(callers, envelope(event_with(frames_of(("shop.billing", "refund", 30), ("shop.errors", "fail", 3)))))

    listed = api.get("/api/errors").json()["errors"]
    assert len([e for e in listed if e["project"] == "moved"]) == groups_for_moved_code
    assert len([e for e in listed if e["project"] == "callers"]) == groups_for_two_callers


def store(client, body, project=None, **headers):
    number = client.key.project_id if project is None else project
    return client.generic("POST", f"/api/{number}/store/", body, **headers)


def test_the_store_route_takes_one_json_event(sdk, api):
    response = store(sdk, json.dumps(python_event()), content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    [detail] = stored(api)
    assert detail["error"]["culprit"] == {"file": "/srv/app/views.py", "line": 42, "function": "handler"}


@pytest.mark.parametrize(
    "encode, headers",
    [
        (lambda raw: zlib.compress(raw), {"HTTP_CONTENT_ENCODING": "deflate"}),
        (lambda raw: base64.b64encode(zlib.compress(raw)), {}),
        (lambda raw: raw, {}),
    ],
    ids=["raven-python-deflate", "base64-zlib", "text-plain-like-raven-js"],
)
def test_the_store_route_reads_the_encodings_old_sdks_use(sdk, api, encode, headers):
    body = encode(json.dumps(python_event()).encode())

    response = store(sdk, body, content_type="text/plain;charset=UTF-8", **headers)

    assert response.status_code == 200, response.content
    assert len(stored(api)) == 1


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"", "Empty body: expected one Sentry event"),
        (b"[1, 2]", "expected one JSON object"),
        (b"not json at all", "base64 of zlib-compressed JSON"),
        (base64.b64encode(zlib.compress(b"{}")[:-3]), "cut short"),
    ],
)
def test_the_store_route_refuses_what_is_not_an_event(sdk, api, body, detail):
    response = store(sdk, body, content_type="application/json")

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert stored(api) == []


def test_the_store_route_needs_the_projects_key(sdk, api):
    other = project_key("other")
    response = store(sdk, json.dumps(python_event()), project=other.project_id, content_type="application/json")

    assert response.status_code == 401
    assert stored(api) == []


def csp_report(blocked, directive="img-src", document="https://shop.example.com/checkout?token=abc123"):
    return {"csp-report": {
        "document-uri": document, "referrer": "", "violated-directive": directive, "effective-directive": directive,
        "original-policy": "default-src 'self'; report-uri /api/1/security/", "disposition": "enforce",
        "blocked-uri": blocked, "status-code": 200, "script-sample": "",
    }}


def security(client, body, content_type="application/csp-report", query=""):
    url = f"/api/{client.key.project_id}/security/?sentry_key={client.key.public_key}{query}"
    return client.generic("POST", url, json.dumps(body), content_type=content_type,
                          HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0")


@pytest.fixture
def browser(db):
    """A page's browser, which knows only the key in the report URL."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.key = project_key("my-app")
    return client


def test_an_accepted_csp_report_is_an_empty_204(browser, api):
    response = security(browser, csp_report("https://cdn.evil.example/a.png"))

    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response


def test_csp_reports_group_by_directive_and_blocked_origin(browser, api):
    assert security(browser, csp_report("https://cdn.evil.example/a.png")).status_code == 204
    security(browser, csp_report("https://cdn.evil.example/b/c.png?x=1"))
    security(browser, csp_report("https://cdn.evil.example/x.js", directive="script-src-elem"))
    security(browser, csp_report("inline", directive="script-src-elem"))

    groups = {d["error"]["message"]: d for d in stored(api)}
    assert set(groups) == {
        "Blocked 'img-src' from https://cdn.evil.example",
        "Blocked 'script-src-elem' from https://cdn.evil.example",
        "Blocked inline 'script-src-elem'",
    }
    images = groups["Blocked 'img-src' from https://cdn.evil.example"]
    assert (images["error"]["exception_type"], images["error"]["source"], images["error"]["count"]) == (
        "CSP violation", "browser", 2
    )
    occurrence = images["occurrences"][0]
    assert occurrence["request_url"] == "https://shop.example.com/checkout?token=[Filtered]"
    assert occurrence["extra"]["blocked_uri"] == "https://cdn.evil.example/b/c.png?x=1"
    assert occurrence["request_headers"] == {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}


def test_reporting_api_batches_are_read_too(browser, api):
    body = [
        {"type": "csp-violation", "age": 10, "url": "https://shop.example.com/", "user_agent": "x",
         "body": {"documentURL": "https://shop.example.com/", "blockedURL": "https://ads.example/p.gif",
                  "effectiveDirective": "img-src", "originalPolicy": "img-src 'self'", "disposition": "report",
                  "statusCode": 200}},
        {"type": "deprecation", "body": {"id": "x"}},
        {"type": "csp-violation", "body": {"documentURL": "https://shop.example.com/", "blockedURL": "eval",
                                           "effectiveDirective": "script-src"}},
    ]

    response = security(browser, body, content_type="application/reports+json", query="&sentry_environment=staging")

    assert response.status_code == 204
    details = stored(api)
    assert sorted(d["error"]["message"] for d in details) == [
        "Blocked 'img-src' from https://ads.example", "Blocked eval 'script-src'"
    ]
    assert {d["error"]["environment"] for d in details} == {"staging"}


@pytest.mark.parametrize(
    "body, content_type, status, detail",
    [
        ({"expect-ct-report": {}}, "application/json", 400, "Expected a CSP violation report"),
        ([], "application/reports+json", 400, "Expected a CSP violation report"),
        ("not json", "application/csp-report", 400, "JSON parse error"),
    ],
)
def test_what_is_not_a_csp_report_is_refused_with_the_reason(browser, api, body, content_type, status, detail):
    raw = body if isinstance(body, str) else json.dumps(body)
    url = f"/api/{browser.key.project_id}/security/?sentry_key={browser.key.public_key}"
    response = browser.generic("POST", url, raw, content_type=content_type)

    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_csp_reports_need_the_projects_key(browser, api):
    url = f"/api/{browser.key.project_id}/security/"
    missing = browser.generic("POST", url, json.dumps(csp_report("inline")), content_type="application/csp-report")
    wrong = browser.generic("POST", url + "?sentry_key=" + "0" * 32, json.dumps(csp_report("inline")),
                            content_type="application/csp-report")

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert stored(api) == []


def test_a_key_limited_to_origins_takes_csp_reports_only_from_them(db, api):
    from rest_framework.test import APIClient

    client = APIClient()
    client.key = project_key("my-app", origins=["https://shop.example.com"])
    url = f"/api/{client.key.project_id}/security/?sentry_key={client.key.public_key}"
    body = json.dumps(csp_report("inline"))

    allowed = client.generic("POST", url, body, content_type="application/csp-report", HTTP_ORIGIN="https://shop.example.com")
    refused = client.generic("POST", url, body, content_type="application/csp-report", HTTP_ORIGIN="https://evil.example")

    assert (allowed.status_code, refused.status_code) == (204, 403)


def test_a_malformed_fingerprint_in_an_event_is_ignored_not_refused(sdk, api):
    event = copy.deepcopy(python_event(fingerprint=[{"nested": 1}, None]))

    assert post(sdk, envelope(event)).status_code == 200
    assert len(stored(api)) == 1


@pytest.mark.parametrize("lineno", [10**12, -3, 0, True, "42", 1.5])
def test_frames_with_impossible_line_numbers_are_skipped_not_stored(sdk, api, lineno):
    event = python_event()
    event["exception"]["values"][0]["stacktrace"]["frames"][1]["lineno"] = lineno

    assert post(sdk, envelope(event)).status_code == 200

    [detail] = stored(api)
    assert detail["error"]["culprit"] == {"file": "/srv/app/main.py", "line": 10, "function": "main"}


def test_a_cache_buster_in_a_browser_events_frames_does_not_split_its_group(sdk, api):
    def browser_event(query):
        return {"event_id": "c" * 32, "platform": "javascript", "exception": {"values": [{
            "type": "TypeError", "value": "x is undefined", "stacktrace": {"frames": [
                {"filename": f"https://shop.example.com/static/cart.js{query}", "function": "addToCart",
                 "lineno": 12, "colno": 9, "in_app": True},
            ]}}]}}

    post(sdk, envelope(browser_event("?v=2")))
    post(sdk, envelope(browser_event("?v=3#top")))
    text = api.post("/api/errors", report(
        project="my-app", exception_type="TypeError", message="x is undefined",
        traceback="TypeError: x is undefined\n    at addToCart (https://shop.example.com/static/cart.js?v=4:12:9)",
    ), format="json").json()

    [detail] = stored(api)
    assert detail["error"]["count"] == 3 and text["status"] == "existing"
    assert detail["error"]["culprit"]["file"] == "https://shop.example.com/static/cart.js"
