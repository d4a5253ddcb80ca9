"""Source maps applied before grouping, through the API: a bundle uploaded as sentry-cli uploads
it, then minified reports (a text stack to POST /api/errors, a Sentry event with debug IDs).

The bundle is tests/fixtures/sourcemaps/ (esbuild), its stacks what Node printed running it."""

import io
import json
import re
import zipfile

import pytest

from tests.factories import envelope, project_key, report
from tests.test_api_sentry import post, sdk_for, stored
from tests.test_tools_api import assemble, cli, sha1, upload  # noqa: F401  (cli is a fixture)
from tests.conftest import REPO

DIST = REPO / "tests" / "fixtures" / "sourcemaps" / "dist"
STACKS = (DIST / "stack.txt").read_text().split("\n\n")
# Where the bundle was when Node printed the stacks (the recorder's checkout, not this one).
RECORDED_FILE = re.search(r"\((/\S+?/dist/app\.min\.js):", STACKS[0])[1]
DEBUG_ID = "5b8a7e1c-0d2f-4c1e-9a7b-3f6e2d1c0b9a"


def fixture_bundle(url="~/dist/app.min.js", debug_id=DEBUG_ID):
    """The esbuild fixture as an artifact bundle, its minified file at `url`."""
    buffer = io.BytesIO()
    buffer.write(b"SYSB\x02\x00\x00\x00")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/_/_/app.min.js", (DIST / "app.min.js").read_bytes())
        archive.writestr("files/_/_/app.min.js.map", (DIST / "app.min.js.map").read_bytes())
        archive.writestr("manifest.json", json.dumps({"files": {
            "files/_/_/app.min.js": {"type": "minified_source", "url": url,
                                     "headers": {"debug-id": debug_id, "sourcemap": "app.min.js.map"}},
            "files/_/_/app.min.js.map": {"type": "source_map", "url": url + ".map", "headers": {"debug-id": debug_id}},
        }}))
    return buffer.getvalue()


def uploaded(cli, url="~/dist/app.min.js", debug_id=DEBUG_ID, release="1.0.0"):
    data = fixture_bundle(url, debug_id)
    upload(cli, [data])
    assert assemble(cli, data, [data], version=release)["state"] == "ok"


def send(api, stack, **fields):
    headline = stack.split("\n", 1)[0]
    exception_type, _, message = headline.partition(": ")
    return api.post("/api/errors", report(exception_type=exception_type, message=message, traceback=stack, **fields),
                    format="json").json()


@pytest.fixture
def shop(db):
    return project_key("shop")


def test_two_bugs_in_one_minified_bundle_are_two_groups_at_their_original_lines(cli, shop, api):
    uploaded(cli)

    boom = send(api, STACKS[0], project="shop")
    port = send(api, STACKS[1], project="shop")

    culprits = {d["error"]["exception_type"]: d["error"]["culprit"] for d in stored(api)}
    assert culprits == {
        "Error": {"file": "src/util.js", "line": 3, "function": "explode"},
        "TypeError": {"file": "src/util.js", "line": 7, "function": "readPort"},
    }
    assert boom["fingerprint"] != port["fingerprint"]


def test_the_stored_traceback_shows_the_original_frames_then_the_minified_ones(cli, shop, api):
    uploaded(cli)

    error_id = send(api, STACKS[0], project="shop")["id"]

    traceback = api.get(f"/api/errors/{error_id}").json()["error"]["traceback"]
    original, minified = traceback.split("\n\nMinified, as reported:\n")
    assert original.splitlines()[:2] == ["Error: boom 7", "    at explode (src/util.js:3:9)"]
    assert minified == STACKS[0]


def test_a_library_frame_in_the_bundle_is_not_the_culprit(cli, shop, api):
    uploaded(cli)

    send(api, STACKS[2], project="shop")

    [detail] = stored(api)
    assert detail["error"]["culprit"]["file"] == "src/main.js"


def test_without_a_map_the_minified_frame_is_the_culprit(shop, api):
    send(api, STACKS[0], project="shop")

    [detail] = stored(api)
    assert detail["error"]["culprit"]["file"].endswith("/dist/app.min.js")


def test_an_upload_for_another_url_does_not_apply(cli, shop, api):
    uploaded(cli, url="~/assets/app.min.js")

    send(api, STACKS[0], project="shop")

    [detail] = stored(api)
    assert detail["error"]["culprit"]["file"].endswith("/dist/app.min.js")


def node_event_of(stack, debug_id=DEBUG_ID):
    """The first stack as @sentry/node sends it: frames innermost last, debug IDs in debug_meta."""
    frames = []
    for line in stack.splitlines()[1:]:
        match = re.match(r"\s+at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$", line)
        function, file, lineno, colno = match.groups()
        frames.append({"filename": file, "function": function or "?", "lineno": int(lineno), "colno": int(colno),
                       "in_app": not file.startswith("node:")})
    file = frames[0]["filename"]
    return {
        "event_id": "b" * 32, "platform": "node", "release": "1.0.0",
        "exception": {"values": [{"type": "Error", "value": "boom 7", "stacktrace": {"frames": frames[::-1]}}]},
        "debug_meta": {"images": [{"type": "sourcemap", "code_file": file, "debug_id": debug_id}]},
    }


def test_a_sentry_event_is_resolved_by_its_debug_id_whatever_the_url(cli, shop, api):
    uploaded(cli, url="~/renamed-by-the-plugin/0f3c-app.min.js")

    assert post(sdk_for(shop), envelope(node_event_of(STACKS[0]))).status_code == 200

    [detail] = stored(api)
    assert detail["error"]["culprit"] == {"file": "src/util.js", "line": 3, "function": "explode"}
    assert detail["error"]["release"] == "1.0.0"


def test_a_source_mapped_report_from_a_web_page_is_still_from_the_browser(cli, shop, api):
    uploaded(cli, url="~/static/app.min.js")
    stack = STACKS[0].replace(RECORDED_FILE, "https://shop.example.com/static/app.min.js")

    send(api, stack, project="shop", source=...)

    [detail] = stored(api)
    assert (detail["error"]["culprit"]["file"], detail["error"]["source"]) == ("src/util.js", "browser")


def test_a_debug_id_no_upload_has_falls_back_to_the_url(cli, shop, api):
    uploaded(cli)  # its files carry DEBUG_ID, not the one the event names

    post(sdk_for(shop), envelope(node_event_of(STACKS[0], debug_id="00000000-0000-0000-0000-000000000000")))

    [detail] = stored(api)
    assert detail["error"]["culprit"] == {"file": "src/util.js", "line": 3, "function": "explode"}


def test_the_admin_shows_the_source_around_the_culprit(cli, shop, api, admin_client):
    uploaded(cli)
    error_id = send(api, STACKS[0], project="shop")["id"]

    page = admin_client.get(f"/admin/errors/error/{error_id}/change/").content.decode()

    assert 'class="source-context"' in page
    assert "throw new Error(" in page


@pytest.fixture
def admin_client(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize(
    "file, grouped_as",
    [
        ("https://shop.example.com/static/js/main.3f2a1b9c.js", "https://shop.example.com/static/js/main.js"),
        ("https://shop.example.com/assets/index-BcD3f_9x.js", "https://shop.example.com/assets/index.js"),
        ("https://shop.example.com/static/js/vendor.js", "https://shop.example.com/static/js/vendor.js"),
    ],
)
def test_without_a_map_a_bundles_content_hash_does_not_split_groups(shop, api, file, grouped_as):
    stack = f"TypeError: x is undefined\n    at Ht ({file}:2:1405)\n    at Xa ({file}:2:88)"
    first = send(api, stack, project="shop")
    renamed = send(api, stack.replace(file, file.replace("3f2a1b9c", "99aa11bb").replace("BcD3f_9x", "Zq81Ty_a")),
                   project="shop")

    assert renamed["fingerprint"] == first["fingerprint"]
    [detail] = stored(api)
    assert detail["error"]["culprit"]["file"] == grouped_as


def test_the_admin_says_when_frames_look_minified_and_how_to_upload_maps(shop, api, admin_client):
    error_id = send(api, STACKS[0], project="shop")["id"]
    readable = send(api, "TypeError: x\n    at addToCart (https://shop.example.com/static/cart.js:12:9)", project="shop")["id"]

    minified_page = admin_client.get(f"/admin/errors/error/{error_id}/change/").content.decode()
    readable_page = admin_client.get(f"/admin/errors/error/{readable}/change/").content.decode()

    assert 'class="minified-note"' in minified_page and "sentry-cli sourcemaps upload" in minified_page
    assert 'class="minified-note"' not in readable_page
