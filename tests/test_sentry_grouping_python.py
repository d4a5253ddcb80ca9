"""How reports from Python clients are grouped, as their users see it: sentry-sdk 2.75 (and the
legacy raven, through POST /api/<n>/store/) in their own processes, reporting to the real server
through a DSN."""

import json

import pytest

from tests.sdk_clients import line_of, new_project, run_python, tracker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

CHECKOUT = """\
import json


def parse_cart(body):
    return json.loads(body)


def parse_coupon(body):
    return json.loads(body)
"""
ORDERS = """\
from shopcore import checkout


def place_order(body):
    return checkout.parse_cart(body)


def apply_coupon(code):
    return checkout.parse_coupon(code)
"""
# Both bodies make json/decoder.py raise from the same line ("Expecting value"), through the
# same line of this script: only the installed package's frames tell the two apart.
INSTALLED_APP = """\
import json, sys
sys.path.insert(0, sys.argv[2])
import sentry_sdk
from shopcore import orders

sentry_sdk.init(dsn=sys.argv[1], in_app_include=["shopcore"], shutdown_timeout=10)
for call, body in ((orders.place_order, "not json"), (orders.apply_coupon, "")):
    try:
        call(body)
    except json.JSONDecodeError as exc:
        sentry_sdk.capture_exception(exc)
sentry_sdk.flush(timeout=10)
"""


def test_in_app_include_puts_the_culprit_in_the_installed_package_not_the_stdlib(tmp_path, new_project):
    project = new_project()
    site_packages = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    package = site_packages / "shopcore"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "checkout.py").write_text(CHECKOUT)
    (package / "orders.py").write_text(ORDERS)

    run_python(tmp_path / "app.py", INSTALLED_APP, project.dsn, str(site_packages))

    errors = sorted(project.errors(), key=lambda error: (error["culprit"] or {}).get("line", 0))
    assert [error["exception_type"] for error in errors] == ["JSONDecodeError", "JSONDecodeError"]
    culprits = [error["culprit"] or {} for error in errors]
    installed = "/site-packages/shopcore/checkout.py"
    assert [culprit.get("file", "").endswith(installed) for culprit in culprits] == [True, True]
    assert [(culprit.get("line"), culprit.get("function")) for culprit in culprits] == [
        (line_of(CHECKOUT, "def parse_cart") + 1, "parse_cart"),
        (line_of(CHECKOUT, "def parse_coupon") + 1, "parse_coupon"),
    ]


MESSAGES = """\
import sys, uuid
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], shutdown_timeout=10)
for value in sys.argv[2:]:
    sentry_sdk.capture_message(TEMPLATE)
sentry_sdk.flush(timeout=10)
"""


def capture_messages(tmp_path, project, template, *values):
    run_python(tmp_path / "messages.py", MESSAGES.replace("TEMPLATE", template), project.dsn, *values)


def test_messages_differing_only_in_a_number_are_one_group(tmp_path, new_project):
    project = new_project()

    capture_messages(tmp_path, project, 'f"order {value} failed: payment timeout"', "17", "18")

    assert [(error["exception_type"], error["count"], error["message"]) for error in project.errors()] == [
        ("order <int> failed: payment timeout", 2, "order 18 failed: payment timeout")
    ]


def test_messages_differing_in_a_uuid_and_an_email_are_one_group(tmp_path, new_project):
    project = new_project()

    capture_messages(
        tmp_path, project, 'f"user {uuid.uuid4()} ({value}) locked out"', "ann@example.com", "bob.smith@shop.example.org"
    )

    errors = project.errors()
    assert [(error["exception_type"], error["count"]) for error in errors] == [("user <uuid> (<email>) locked out", 2)]
    assert errors[0]["message"].endswith(" (bob.smith@shop.example.org) locked out")


FINGERPRINTED = """\
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], shutdown_timeout=10)


class GatewayTimeout(Exception):
    pass


def charge():
    raise GatewayTimeout("no answer in 30s")


def refund():
    raise ConnectionResetError("gateway hung up")


def report(call, fingerprint):
    try:
        call()
    except Exception as exc:
        with sentry_sdk.new_scope() as scope:
            if fingerprint is not None:
                scope.fingerprint = fingerprint
            sentry_sdk.capture_exception(exc)


for name, fingerprint in CALLS:
    report(globals()[name], fingerprint)
sentry_sdk.flush(timeout=10)
"""


def capture_fingerprinted(tmp_path, project, calls):
    """Capture each (function, scope fingerprint or None) of `calls`, in order."""
    run_python(tmp_path / "fingerprinted.py", FINGERPRINTED.replace("CALLS", repr(calls)), project.dsn)


def test_an_sdk_fingerprint_puts_different_exceptions_in_one_group(tmp_path, new_project):
    project, fingerprint = new_project(), ["payment-gateway-timeout"]

    capture_fingerprinted(tmp_path, project, [("charge", fingerprint), ("refund", fingerprint)])

    assert [error["count"] for error in project.errors()] == [2]


def test_default_plus_a_value_splits_one_exception_by_that_value(tmp_path, new_project):
    project = new_project()
    tenant_a, tenant_b = ["{{ default }}", "tenant-a"], ["{{ default }}", "tenant-b"]

    capture_fingerprinted(tmp_path, project, [("charge", tenant_a), ("charge", tenant_b), ("charge", tenant_a)])

    errors = project.errors()
    assert sorted(error["count"] for error in errors) == [1, 2]
    assert {error["exception_type"] for error in errors} == {"GatewayTimeout"}


def test_default_alone_groups_exactly_like_no_fingerprint(tmp_path, new_project):
    project = new_project()

    capture_fingerprinted(
        tmp_path, project, [("charge", None), ("charge", ["{{ default }}"]), ("charge", ["{{ default }}", "tenant-a"])]
    )

    assert sorted(error["count"] for error in project.errors()) == [1, 2]


ENVIRONMENT_APP = """\
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], environment=sys.argv[2], shutdown_timeout=10)


def charge(amount):
    return 100 / amount


try:
    charge(0)
except ZeroDivisionError as exc:
    sentry_sdk.capture_exception(exc)
sentry_sdk.flush(timeout=10)
"""


def test_one_error_in_two_environments_is_one_group_found_under_both(tmp_path, new_project):
    project = new_project()

    for environment in ("staging", "production"):
        run_python(tmp_path / "app.py", ENVIRONMENT_APP, project.dsn, environment)

    [row] = project.list()
    assert [found["id"] for found in project.list(environment="staging")] == [row["id"]]
    assert [found["id"] for found in project.list(environment="production")] == [row["id"]]
    [detail] = project.groups()
    assert (detail["error"]["count"], detail["error"]["environment"]) == (2, "production")
    assert detail["error"]["environments"] == ["production", "staging"]


CHECKOUT_APP = """\
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], shutdown_timeout=10)
MOVED

def charge(amount):
    return 100 / amount


def checkout():
    return charge(0)


try:
    checkout()
except ZeroDivisionError as exc:
    sentry_sdk.capture_exception(exc)
sentry_sdk.flush(timeout=10)
"""


@pytest.mark.parametrize(
    ("options", "counts"), [(["--strategy", "stack"], [2]), ([], [1, 1])], ids=["stack", "default-line"]
)
def test_code_moved_down_two_lines_stays_in_its_group_only_under_stack(tmp_path, new_project, options, counts):
    project = new_project(*options)

    for inserted in ("", "\n\n"):  # the next deploy adds two blank lines above the failing code
        run_python(tmp_path / "checkout.py", CHECKOUT_APP.replace("MOVED", inserted), project.dsn)

    assert sorted(error["count"] for error in project.errors()) == counts


SHARED_HELPER_APP = """\
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], shutdown_timeout=10)


class PaymentError(Exception):
    pass


def fail(msg):
    raise PaymentError(msg)


def charge():
    fail("card declined")


def refund():
    fail("refund refused")


for call in (charge, refund):
    try:
        call()
    except PaymentError as exc:
        sentry_sdk.capture_exception(exc)
sentry_sdk.flush(timeout=10)
"""


@pytest.mark.parametrize(
    ("options", "counts"), [(["--strategy", "stack"], [1, 1]), ([], [2])], ids=["stack", "default-line"]
)
def test_a_shared_helper_raising_for_two_callers_is_split_only_under_stack(tmp_path, new_project, options, counts):
    project = new_project(*options)
    script = tmp_path / "payments.py"

    run_python(script, SHARED_HELPER_APP, project.dsn)

    errors = project.errors()
    assert sorted(error["count"] for error in errors) == counts
    raising = {"file": str(script), "line": line_of(SHARED_HELPER_APP, "raise PaymentError"), "function": "fail"}
    assert [error["culprit"] for error in errors] == [raising] * len(counts)


RAVEN_APP = """\
import json, sys
from raven import Client
from raven.transport.http import HTTPTransport

answers = []


class AnswerKeepingTransport(HTTPTransport):
    \"\"\"raven's own synchronous HTTP transport, keeping the server's answers to print them.\"\"\"

    def send(self, url, data, headers):
        response = super().send(url, data, headers)
        answers.append({"url": url, "status": response.getcode(), "body": json.loads(response.read())})
        return response


client = Client(sys.argv[1], transport=AnswerKeepingTransport, environment="staging", raise_send_errors=True)


def charge(amount):
    return 100 / amount


try:
    charge(0)
except ZeroDivisionError:
    event_id = client.captureException()
print(json.dumps({"event_id": event_id, "answers": answers}))
"""


def test_legacy_raven_client_reports_through_the_store_endpoint(tmp_path, new_project, tracker):
    project = new_project()
    script = tmp_path / "legacy_app.py"

    result = run_python(script, RAVEN_APP, project.dsn)

    sent = json.loads(result.stdout.splitlines()[-1])
    assert sent["answers"] == [
        {"url": f"{tracker.url}/api/{project.number}/store/", "status": 200, "body": {"id": sent["event_id"]}}
    ]
    [detail] = project.groups()
    error = detail["error"]
    assert (error["exception_type"], error["message"], error["environment"]) == (
        "ZeroDivisionError", "division by zero", "staging",
    )
    raising = line_of(RAVEN_APP, "return 100 / amount")
    assert error["culprit"] == {"file": str(script), "line": raising, "function": "charge"}
