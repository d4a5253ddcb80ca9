"""How reports from Sentry's Node SDK are grouped, as its users see it: @sentry/node (the version
tests/node/package-lock.json pins) in a `node` process, reporting to the real server through a DSN."""

import json

import pytest

from tests.sdk_clients import line_of, new_project, run_node, tracker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

# Every script: argv[2] is the DSN, argv[3] more Sentry.init options as JSON; it exits 1 if
# Sentry.close could not send everything in 10 s.
INIT = """\
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], ...JSON.parse(process.argv[3] || "{}") });
"""
CLOSE = """
Sentry.close(10000).then((sent) => {
  process.exitCode = sent ? 0 : 1;
});
"""

READ_FILES_APP = INIT + """\
const fs = require("fs");

function loadConfig() {
  return fs.readFileSync("/nonexistent/a");
}

function loadTemplate() {
  return fs.readFileSync("/nonexistent/b");
}

for (const load of [loadConfig, loadTemplate]) {
  try {
    load();
  } catch (err) {
    Sentry.captureException(err);
  }
}
""" + CLOSE


def test_errors_thrown_inside_node_fs_are_grouped_at_the_app_lines_that_called_it(tmp_path, new_project):
    project = new_project()
    script = tmp_path / "app.js"

    run_node(script, READ_FILES_APP, project.dsn)

    culprits = sorted((error["culprit"] or {} for error in project.errors()), key=lambda culprit: culprit.get("line", 0))
    assert culprits == [
        {"file": str(script), "line": line_of(READ_FILES_APP, '"/nonexistent/a"'), "function": "loadConfig"},
        {"file": str(script), "line": line_of(READ_FILES_APP, '"/nonexistent/b"'), "function": "loadTemplate"},
    ]


LATENCY_APP = INIT + """\
Sentry.captureMessage("checkout latency above 2s", "warning");
""" + CLOSE


@pytest.mark.parametrize("attach_stacktrace", [False, True], ids=["plain", "attachStacktrace"])
def test_a_captured_message_is_its_own_group_not_an_error(tmp_path, new_project, attach_stacktrace):
    project = new_project()

    run_node(tmp_path / "app.js", LATENCY_APP, project.dsn, json.dumps({"attachStacktrace": attach_stacktrace}))

    assert [(error["exception_type"], error["message"]) for error in project.errors()] == [
        ("checkout latency above 2s", "checkout latency above 2s")
    ]


# Each message is flushed before the next: the SDK sends queued events in parallel, so the
# server could otherwise see 18 before 17.
ORDERS_APP = INIT + """\
(async () => {
  let sent = true;
  for (const n of [17, 18]) {
    Sentry.captureMessage(`order ${n} failed: payment timeout`);
    sent = (await Sentry.flush(10000)) && sent;
  }
  process.exitCode = sent && (await Sentry.close(10000)) ? 0 : 1;
})();
"""


def test_messages_differing_only_in_a_number_are_one_group(tmp_path, new_project):
    project = new_project()

    run_node(tmp_path / "app.js", ORDERS_APP, project.dsn)

    assert [(error["exception_type"], error["count"], error["message"]) for error in project.errors()] == [
        ("order <int> failed: payment timeout", 2, "order 18 failed: payment timeout")
    ]


FINGERPRINTED_APP = INIT + """\
class GatewayTimeout extends Error {
  constructor(message) {
    super(message);
    this.name = "GatewayTimeout";
  }
}

function charge() {
  throw new GatewayTimeout("no answer in 30s");
}

function refund() {
  throw new RangeError("refund above the charge");
}

for (const [name, fingerprint] of CALLS) {
  try {
    ({ charge, refund })[name]();
  } catch (err) {
    Sentry.withScope((scope) => {
      if (fingerprint) scope.setFingerprint(fingerprint);
      Sentry.captureException(err);
    });
  }
}
""" + CLOSE


def capture_fingerprinted(tmp_path, project, calls):
    """Capture each (function, scope fingerprint or None) of `calls`, in order."""
    run_node(tmp_path / "app.js", FINGERPRINTED_APP.replace("CALLS", json.dumps(calls)), project.dsn)


def test_an_sdk_fingerprint_puts_different_errors_in_one_group(tmp_path, new_project):
    project, fingerprint = new_project(), ["payment-gateway-timeout"]

    capture_fingerprinted(tmp_path, project, [["charge", fingerprint], ["refund", fingerprint]])

    assert [error["count"] for error in project.errors()] == [2]


def test_default_plus_a_value_splits_one_error_and_default_alone_changes_nothing(tmp_path, new_project):
    project = new_project()
    tenant_a, tenant_b = ["{{ default }}", "tenant-a"], ["{{ default }}", "tenant-b"]

    calls = [["charge", tenant_a], ["charge", tenant_b], ["charge", tenant_a], ["charge", None], ["charge", ["{{ default }}"]]]

    capture_fingerprinted(tmp_path, project, calls)

    errors = project.errors()
    assert sorted(error["count"] for error in errors) == [1, 2, 2]
    assert {error["exception_type"] for error in errors} == {"GatewayTimeout"}


CHECKOUT_APP = INIT + """\
MOVED
function charge(amount) {
  if (amount <= 0) throw new RangeError("amount must be positive");
}

function checkout() {
  charge(0);
}

try {
  checkout();
} catch (err) {
  Sentry.captureException(err);
}
""" + CLOSE


@pytest.mark.parametrize(
    ("options", "counts"), [(["--strategy", "stack"], [2]), ([], [1, 1])], ids=["stack", "default-line"]
)
def test_code_moved_down_two_lines_stays_in_its_group_only_under_stack(tmp_path, new_project, options, counts):
    project = new_project(*options)

    for inserted in ("", "\n\n"):  # the next deploy adds two blank lines above the failing code
        run_node(tmp_path / "checkout.js", CHECKOUT_APP.replace("MOVED", inserted), project.dsn)

    assert sorted(error["count"] for error in project.errors()) == counts
