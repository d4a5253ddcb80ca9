"""Secrets in request headers, extra metadata and URLs are filtered before storage."""

import pytest

from ingest.scrub import FILTERED, Scrubber
from tests.factories import report

SECRET_NAMES = [
    "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-API-Key",
    "password", "user_password", "PASSWD", "client_secret", "access_token", "X-Auth-Token",
    "api_key", "apikey", "sessionid", "SESSION", "csrftoken", "X-CSRFToken",
    "credit_card", "Credit Card", "card_number", "cardNumber",
    "private_key", "access_key", "AWS_ACCESS_KEY_ID", "pwd", "passphrase", "credentials", "jwt", "bearer",
    "Authorisation", "X-Auth", "PHPSESSID", "connect.sid", "XSRF-TOKEN", "mysql_pwd",
]
HARMLESS_NAMES = ["Accept", "Content-Type", "User-Agent", "request_id", "user", "cart_total"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_are_filtered(name):
    assert Scrubber().scrub_mapping({name: "s3cr3t"}) == {name: FILTERED}


@pytest.mark.parametrize("name", HARMLESS_NAMES)
def test_ordinary_names_are_kept(name):
    assert Scrubber().scrub_mapping({name: "value"}) == {name: "value"}


def test_nested_objects_and_lists_are_scrubbed():
    extra = {"user": {"name": "ann", "login": {"password": "p", "token": {"deep": 1}}}, "items": [{"secret": 1}, 2]}

    assert Scrubber().scrub_mapping(extra) == {
        "user": {"name": "ann", "login": {"password": FILTERED, "token": FILTERED}},
        "items": [{"secret": FILTERED}, 2],
    }


def test_scrub_fields_adds_names():
    scrubber = Scrubber(["ssn", "Date-Of-Birth"])

    assert scrubber.scrub_mapping({"SSN": "1", "date_of_birth": "2", "name": "x"}) == {
        "SSN": FILTERED, "date_of_birth": FILTERED, "name": "x",
    }


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/login?user=ann&password=hunter2", f"/login?user=ann&password={FILTERED}"),
        ("/cb?code=1&access_token=abc#frag", f"/cb?code=1&access_token={FILTERED}#frag"),
        ("/x?API%5FKEY=abc&q=1", f"/x?API%5FKEY={FILTERED}&q=1"),
        ("https://bob:pa55@db.example.com/x?page=2", f"https://bob:{FILTERED}@db.example.com/x?page=2"),
        ("/plain/path", "/plain/path"),
        ("/search?q=token+bucket", "/search?q=token+bucket"),
        ("", ""),
        ("https://app.example.com/cb#access_token=abc&state=1", f"https://app.example.com/cb#access_token={FILTERED}&state=1"),
        ("https://ghp_abc123@github.com/org/repo.git", f"https://{FILTERED}@github.com/org/repo.git"),
        ("/login?next=https://u:p@h.example.com/", f"/login?next=https://u:{FILTERED}@h.example.com/"),
        ("/login?next=https%3A%2F%2Fh%2F%3Ftoken%3Dz&a=1", f"/login?next=https://h/?token={FILTERED}&a=1"),
        ("/x?a=1;token=2;b=3", f"/x?a=1;token={FILTERED};b=3"),
    ],
)
def test_url_query_secrets_and_passwords_are_filtered(url, expected):
    assert Scrubber().scrub_url(url) == expected


def test_every_name_on_sentry_sdks_default_denylist_is_filtered():
    from sentry_sdk.scrubber import DEFAULT_DENYLIST

    scrubbed = Scrubber().scrub_mapping({name: "s3cr3t" for name in DEFAULT_DENYLIST})

    assert set(scrubbed.values()) == {FILTERED}


def test_name_value_pairs_and_urls_inside_values_are_scrubbed():
    headers = [["Authorization", "Bearer abc"], ["Accept", "text/html"], ["Referer", "https://u:pw@shop.example.com/"]]

    assert Scrubber().scrub_mapping({"headers": headers, "tags": [["api_token", "t"], ["region", "eu"]]}) == {
        "headers": [["Authorization", FILTERED], ["Accept", "text/html"], ["Referer", f"https://u:{FILTERED}@shop.example.com/"]],
        "tags": [["api_token", FILTERED], ["region", "eu"]],
    }


def test_stored_occurrence_has_no_secrets(api, settings):
    settings.SCRUB_FIELDS = ["ssn"]
    body = report(
        request_url="/login?user=ann&session_id=abc123",
        request_headers={"Authorization": "Bearer abc", "Cookie": "sid=1", "Accept": "text/html"},
        extra={"request_id": "r1", "form": {"password": "hunter2", "ssn": "078-05-1120"}},
    )
    error_id = api.post("/api/errors", body, format="json").json()["id"]

    occurrence = api.get(f"/api/errors/{error_id}").json()["occurrences"][0]
    assert occurrence["request_url"] == f"/login?user=ann&session_id={FILTERED}"
    assert occurrence["request_headers"] == {"Authorization": FILTERED, "Cookie": FILTERED, "Accept": "text/html"}
    assert occurrence["extra"] == {"request_id": "r1", "form": {"password": FILTERED, "ssn": FILTERED}}
