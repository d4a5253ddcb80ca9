"""Grouping through the API: culprit frames, the dry-run preview and the fingerprint strategy."""

import hashlib

from django.test import override_settings

from tests.factories import report


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def traceback_of(*frames, exc="ValueError: bad"):
    lines = ["Traceback (most recent call last):"]
    for file, line, function in frames:
        lines.append(f'  File "{file}", line {line}, in {function}')
        lines.append("    do_something()")
    return "\n".join(lines + [exc]) + "\n"


JSON_LOADS = [
    ("/usr/lib/python3.11/json/__init__.py", 346, "loads"),
    ("/usr/lib/python3.11/json/decoder.py", 337, "decode"),
]


def post(api, body, query=""):
    return api.post(f"/api/errors{query}", body, format="json")


def test_it_groups_same_bug_from_two_callers(api):
    from_checkout = traceback_of(("/srv/app/checkout.py", 10, "pay"), ("/srv/app/billing.py", 55, "charge"))
    from_refunds = traceback_of(("/srv/app/refunds.py", 80, "refund"), ("/srv/app/billing.py", 55, "charge"))

    first = post(api, report(traceback=from_checkout))
    second = post(api, report(traceback=from_refunds))

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["count"] == 2
    assert first.json()["fingerprint"] == md5("my-app:ValueError:/srv/app/billing.py:55")


def test_different_innermost_app_frames_make_two_groups(api):
    a = post(api, report(traceback=traceback_of(("/srv/app/views.py", 1, "a"), ("/srv/app/billing.py", 55, "charge"))))
    b = post(api, report(traceback=traceback_of(("/srv/app/views.py", 1, "a"), ("/srv/app/billing.py", 70, "refund"))))

    assert a.status_code == b.status_code == 201
    assert api.get("/api/errors").json()["total"] == 2


def test_same_library_error_from_two_app_lines_makes_two_groups(api):
    one = traceback_of(("/srv/app/import_csv.py", 12, "parse_row"), *JSON_LOADS, exc="json.decoder.JSONDecodeError: x")
    two = traceback_of(("/srv/app/webhooks.py", 40, "receive"), *JSON_LOADS, exc="json.decoder.JSONDecodeError: x")

    a = post(api, report(exception_type="JSONDecodeError", traceback=one)).json()
    b = post(api, report(exception_type="JSONDecodeError", traceback=two)).json()

    assert a["fingerprint"] == md5("my-app:JSONDecodeError:/srv/app/import_csv.py:12")
    assert b["fingerprint"] == md5("my-app:JSONDecodeError:/srv/app/webhooks.py:40")


def test_culprit_is_returned_in_list_and_detail(api):
    error_id = post(api, report(traceback=traceback_of(("/srv/app/billing.py", 55, "charge"), *JSON_LOADS))).json()["id"]

    expected = {"file": "/srv/app/billing.py", "line": 55, "function": "charge"}
    assert api.get("/api/errors").json()["errors"][0]["culprit"] == expected
    assert api.get(f"/api/errors/{error_id}").json()["error"]["culprit"] == expected


def test_culprit_is_null_without_frames(api):
    error_id = post(api, report(traceback="no frames here")).json()["id"]

    assert api.get(f"/api/errors/{error_id}").json()["error"]["culprit"] is None


def test_dry_run_previews_grouping_and_stores_nothing(api):
    body = report(traceback=traceback_of(("/srv/app/billing.py", 55, "charge"), *JSON_LOADS))

    response = post(api, body, "?dry_run=1")

    assert response.status_code == 200
    preview = response.json()
    assert preview["status"] == "dry_run"
    assert preview["language"] == "python"
    assert preview["fingerprint"] == md5("my-app:ValueError:/srv/app/billing.py:55")
    assert preview["culprit"] == {
        "file": "/srv/app/billing.py", "line": 55, "column": None, "function": "charge", "in_app": True,
    }
    assert [(f["file"], f["in_app"]) for f in preview["frames"]] == [
        ("/srv/app/billing.py", True),
        ("/usr/lib/python3.11/json/__init__.py", False),
        ("/usr/lib/python3.11/json/decoder.py", False),
    ]
    assert api.get("/api/errors").json()["total"] == 0
    assert post(api, body).json()["fingerprint"] == preview["fingerprint"]


def test_dry_run_validates_like_a_real_report(api, anonymous):
    assert post(api, {"project": ""}, "?dry_run=1").status_code == 400
    assert anonymous.post("/api/errors?dry_run=1", report(), format="json").status_code == 401


@override_settings(FINGERPRINT_STRATEGY="function")
def test_function_strategy_keeps_group_when_code_moves(api):
    before = post(api, report(traceback=traceback_of(("/srv/app/billing.py", 55, "charge"))))
    after_deploy = post(api, report(traceback=traceback_of(("/srv/app/billing.py", 61, "charge"))))

    assert before.json()["fingerprint"] == md5("my-app:ValueError:/srv/app/billing.py:charge")
    assert after_deploy.status_code == 200
    detail = api.get(f"/api/errors/{before.json()['id']}").json()["error"]
    assert detail["culprit"] == {"file": "/srv/app/billing.py", "line": 61, "function": "charge"}


def test_line_strategy_splits_group_when_code_moves(api):
    before = post(api, report(traceback=traceback_of(("/srv/app/billing.py", 55, "charge"))))
    after_deploy = post(api, report(traceback=traceback_of(("/srv/app/billing.py", 61, "charge"))))

    assert before.status_code == after_deploy.status_code == 201
