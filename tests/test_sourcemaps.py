"""Source maps turn minified frames into the original code's, and bundle names lose their hash.

The bundle, its map and the stacks come from esbuild and Node.js (tests/fixtures/sourcemaps/);
the expected original locations were read from the sources, not from the code under test.
"""

import json
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grouping.frames import Frame
from grouping.javascript import parse_javascript_stack
from grouping.sourcemaps import display_path, load_sourcemap, strip_content_hash

DIST = Path(__file__).parent / "fixtures" / "sourcemaps" / "dist"
MINIFIED = (DIST / "app.min.js").read_bytes()
MAP = (DIST / "app.min.js.map").read_bytes()
# dist/stack.txt holds one `error.stack` per bug, each followed by a blank line.
STACKS = [
    parse_javascript_stack(text.splitlines()).frames
    for text in (DIST / "stack.txt").read_text().split("\n\n")
    if text.strip()
]
EXPLODE, READ_PORT, LEFTPAD = STACKS


def resolved(frame, context_lines=3):
    return load_sourcemap(MINIFIED, MAP).resolve(frame, context_lines)


def original_location(frame):
    original = resolved(frame).frame
    return original.file, original.line, original.column, original.function, original.in_app


def mapped_frame(source):
    """A one-token map from `source` to a one-character minified file, and that file's frame."""
    sourcemap = json.dumps({"version": 3, "sources": [source], "names": [], "mappings": "AAAA"})
    return load_sourcemap(b"a", sourcemap.encode()), Frame("app.min.js", 1, 1, "a")


def test_node_printed_every_bug_at_line_1_of_the_bundle():
    innermost = [stack[0] for stack in STACKS]

    assert {(frame.file.rsplit("/", 1)[-1], frame.line) for frame in innermost} == {("app.min.js", 1)}
    assert len({frame.column for frame in innermost}) == 3


@pytest.mark.parametrize(
    "stack, innermost, caller",
    [
        (EXPLODE, ("src/util.js", 3, 9, "explode", True), ("src/main.js", 5, 3, "handleClick", True)),
        (READ_PORT, ("src/util.js", 7, 24, "readPort", True), ("src/main.js", 9, 10, "startServer", True)),
        (
            LEFTPAD,
            ("node_modules/leftpad/index.js", 3, 11, "leftpad", False),
            ("src/main.js", 13, 10, "formatLabel", True),
        ),
    ],
    ids=["explode", "read-port", "leftpad"],
)
def test_it_resolves_node_frames_to_the_original_file_line_and_function(stack, innermost, caller):
    assert original_location(stack[0]) == innermost
    assert original_location(stack[1]) == caller


def test_two_bugs_in_one_bundle_resolve_to_two_original_locations():
    explode, read_port = resolved(EXPLODE[0]).frame, resolved(READ_PORT[0]).frame

    assert EXPLODE[0].file == READ_PORT[0].file and EXPLODE[0].line == READ_PORT[0].line
    assert (explode.file, explode.line) != (read_port.file, read_port.line)
    assert explode.function != read_port.function


def test_anonymous_callbacks_stay_anonymous():
    assert original_location(EXPLODE[2]) == ("src/main.js", 17, 26, "<anonymous>", True)


def test_the_minified_frame_is_kept_beside_the_original():
    assert resolved(EXPLODE[0]).minified == EXPLODE[0]


def test_context_lines_come_from_sources_content_without_newlines():
    explode = resolved(EXPLODE[0], context_lines=2)

    assert explode.pre_context == ("export function explode(value) {", '  const message = "boom " + value;')
    assert explode.context_line == "  throw new Error(message);"
    assert explode.post_context == ("}", "")


def test_context_stops_at_the_last_line_of_the_source():
    # util.js ends with "}\n": symbolic's empty line after that newline is not a line.
    assert resolved(READ_PORT[0], context_lines=2).post_context == ("}",)


def test_a_map_without_sources_content_resolves_without_context():
    without_content = json.loads(MAP)
    del without_content["sourcesContent"]
    sourcemap = load_sourcemap(MINIFIED, json.dumps(without_content).encode())

    explode = sourcemap.resolve(EXPLODE[0])

    assert (explode.frame.file, explode.frame.line, explode.frame.function) == ("src/util.js", 3, "explode")
    assert (explode.pre_context, explode.context_line, explode.post_context) == ((), "", ())


def test_without_the_minified_source_frames_keep_their_minified_function():
    explode = load_sourcemap(b"", MAP).resolve(EXPLODE[0]).frame

    assert (explode.file, explode.line, explode.function) == ("src/util.js", 3, EXPLODE[0].function)


def test_it_reads_a_map_from_a_memoryview():
    sourcemap = load_sourcemap(memoryview(MINIFIED), memoryview(MAP))

    assert sourcemap.resolve(EXPLODE[0]).frame.function == "explode"


def test_the_map_keeps_neither_file():
    minified, map_bytes = bytes(bytearray(MINIFIED)), bytes(bytearray(MAP))
    references = sys.getrefcount(minified), sys.getrefcount(map_bytes)

    sourcemap = load_sourcemap(minified, map_bytes)

    assert (sys.getrefcount(minified), sys.getrefcount(map_bytes)) == references
    assert sourcemap.resolve(EXPLODE[0]).frame.function == "explode"


def test_size_estimates_twice_both_files():
    assert load_sourcemap(MINIFIED, MAP).size == 2 * (len(MINIFIED) + len(MAP))


@pytest.mark.parametrize(
    "line, column",
    [
        (None, None), (1, None), (None, 179), (99, 1), (3, 1), (1, 1),
        (0, 179), (1, 0), (-1, 179), (2**32, 179), (1, 2**32),
    ],
    ids=[
        "no-line-or-column", "no-column", "no-line", "line-past-the-end", "source-map-comment-line",
        "before-the-first-token", "line-zero", "column-zero", "negative-line", "line-past-uint32", "column-past-uint32",
    ],
)
def test_a_frame_the_map_does_not_cover_resolves_to_none(line, column):
    assert resolved(EXPLODE[0]._replace(line=line, column=column)) is None


def test_a_token_naming_no_source_resolves_to_none():
    sourcemap, frame = mapped_frame(None)

    assert sourcemap.resolve(frame) is None


@pytest.mark.parametrize(
    "source, in_app",
    [
        ("webpack:///./src/a.js", True),
        ("webpack://app/./node_modules/x/index.js", False),
        ("../../node_modules/@scope/x/dist/x.js", False),
        ("webpack:///webpack/bootstrap", False),
        ("webpack://app/webpack/runtime/jsonp chunk loading", False),
        ("src/node_modules_helpers.js", True),
    ],
)
def test_libraries_and_the_bundler_runtime_are_not_in_app(source, in_app):
    sourcemap, frame = mapped_frame(source)

    assert sourcemap.resolve(frame).frame.in_app is in_app


@pytest.mark.parametrize(
    "source, shown",
    [
        ("../src/util.js", "src/util.js"),
        ("../../../src/util.js", "src/util.js"),
        ("./src/util.js", "src/util.js"),
        ("./../src/util.js", "src/util.js"),
        ("webpack:///./src/util.js", "src/util.js"),
        ("webpack:///src/util.js", "src/util.js"),
        ("webpack://my-app/./src/util.js", "src/util.js"),
        ("webpack:///webpack/bootstrap", "webpack/bootstrap"),
        ("src/../util.js", "src/../util.js"),
        ("/home/ci/app/src/util.js", "/home/ci/app/src/util.js"),
        ("https://cdn.example/src/util.js", "https://cdn.example/src/util.js"),
        ("..", ".."),
    ],
)
def test_display_path_drops_only_leading_bundler_prefixes_and_relative_steps(source, shown):
    assert display_path(source) == shown


GARBAGE_MAPS = {
    "empty": b"",
    "null": b"null",
    "array": b"[]",
    "not-utf8": b"\xff\xfe\x00",
    "truncated": MAP[: len(MAP) // 2],
    "source-out-of-range": b'{"version":3,"sources":[],"names":[],"mappings":"AAAA"}',
    "source-index-negative": b'{"version":3,"sources":["a"],"names":[],"mappings":"AZZZ"}',
    "name-out-of-range": b'{"version":3,"sources":["a"],"names":[],"mappings":"AAAAc"}',
    "vlq-overflow": b'{"version":3,"sources":["a"],"names":[],"mappings":"' + b"g" * 10_000 + b'A"}',
    "three-field-segment": b'{"version":3,"sources":["a"],"names":[],"mappings":"AAA"}',
    "index-map-pointing-elsewhere": b'{"version":3,"sections":[{"offset":{"line":0,"column":0},"url":"x.map"}]}',
    "deeply-nested": b'{"a":' * 100_000,
}


@pytest.mark.parametrize("sourcemap", GARBAGE_MAPS.values(), ids=GARBAGE_MAPS.keys())
def test_a_map_symbolic_cannot_read_gives_none(sourcemap):
    assert load_sourcemap(MINIFIED, sourcemap) is None


def test_a_map_with_a_million_tokens_loads_in_bounded_time():
    mappings = ",".join(["AAAA"] + ["CAAC"] * 1_000_000)
    sourcemap = json.dumps({"version": 3, "sources": ["a.js"], "names": [], "mappings": mappings}).encode()

    started = time.perf_counter()
    loaded = load_sourcemap(b"", sourcemap)
    elapsed = time.perf_counter() - started

    assert loaded.resolve(Frame("app.min.js", 1, 500_001)).frame.column == 500_001
    assert elapsed < 5.0


@settings(max_examples=300, deadline=None)
@given(minified=st.binary(max_size=500), sourcemap=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(minified, sourcemap):
    loaded = load_sourcemap(minified, sourcemap)

    assert loaded is None or loaded.size > 0


VLQ_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;", max_size=200)


@settings(max_examples=300, deadline=None)
@given(
    mappings=VLQ_TEXT,
    sources=st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=3),
    contents=st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=3),
    names=st.lists(st.text(max_size=10), max_size=3),
    frames=st.lists(st.tuples(st.integers(-2, 5), st.integers(-2, 600)), max_size=5),
)
def test_well_formed_json_with_any_mappings_never_raises(mappings, sources, contents, names, frames):
    sourcemap = {"version": 3, "sources": sources, "sourcesContent": contents, "names": names, "mappings": mappings}
    loaded = load_sourcemap(MINIFIED, json.dumps(sourcemap).encode())

    for line, column in frames if loaded else ():
        result = loaded.resolve(Frame("app.min.js", line, column, "f"))
        assert result is None or (result.frame.line >= 1 and "\n" not in result.context_line)


@pytest.mark.parametrize(
    "file, stripped",
    [
        ("main.3f2a1b9c.js", "main.js"),
        ("https://shop.example/static/js/main.3f2a1b9c.js", "https://shop.example/static/js/main.js"),
        ("123.4f2e9a1b.chunk.js", "123.chunk.js"),
        ("app.a1b2c3d4e5f6a7b8.min.js", "app.min.js"),
        ("/_next/static/chunks/framework-2c79e2a64abdb08b.js", "/_next/static/chunks/framework.js"),
        ("/_next/static/chunks/2443-5eb8d8e1f1b3c0a1.js", "/_next/static/chunks/2443.js"),
        ("chunk-5AB3C2DE.js", "chunk.js"),
        ("chunk-ABCDEFGH.mjs", "chunk.mjs"),
        ("index-BcD3f_9x.js", "index.js"),
        ("/assets/vendor-react-DiwrgTda.js", "/assets/vendor-react.js"),
        ("index-B-x3_9Zq.js", "index.js"),
        (r"C:\app\dist\main-ABCD2345.cjs", r"C:\app\dist\main.cjs"),
        # Rollup's own build, from node_modules on this machine.
        ("rollup-DCG8HLmh.js", "rollup.js"),
        ("core-Bd0h-mo3.js", "core.js"),
        ("instrumentation-serde-C-Xxv-jj.js", "instrumentation-serde.js"),
        # tsup (esbuild) chunks, from node_modules on this machine.
        ("chunk-24HTSO7F.cjs", "chunk.cjs"),
        ("chunk-3WK333IO.cjs", "chunk.cjs"),
    ],
)
def test_strip_content_hash_drops_bundler_hashes(file, stripped):
    assert strip_content_hash(file) == stripped


# Library and app file names that hold digits, dashes or camel case but no hash. Most are
# from node_modules on this machine: every name there whose last 8 characters before the
# extension follow a `-`, and names with version-like digits.
ORDINARY_NAMES = [
    "jquery.min.js", "react-dom.production.min.js", "vendor.js", "2024-report.js", "v2.js",
    "report-20240101.js", "vendor-deadbeef.js", "jquery.scrollTo.js", "menu-Dropdown.js",
    "esnext.math.f16round.js", "web.dom-collections.for-each.js", "es.number.to-fixed.js",
    "jquery-3.7.1.min.js", "vue.esm-browser.prod.js", "pdf.worker.min.mjs", "socket.io.min.js",
    "3f2a1b9c.js", "3f2a1b9c.chunk.js", "-BcD3f_9x.js", "main.3f2a1b9c.css", "index-BcD3f_9x.ts",
    "chacha20-poly1305.js", "es6-string-includes.js", "string-array-to-hex-stripped.mjs",
    "webcontainer-fallback.cjs", "url-scroll-to-text-fragment.js", "keyboardevent-charcode.js",
    "parser.wasm32-wasip1.workerd.mjs", "index.no-diagnostic-channels.js", "css-rrggbbaa.js",
    "lazy-node-sqlite3-wasm.cjs", "mysql2-dc-subscriber.js", "intersectionobserver-v2.js",
    "base64-vlq.js", "QR8bitByte.js", "xxhash64.js", "leb128.js", "tls1-3.js", "rfc-3986.test.js",
    "ipv6-canonical.test.js", "custom-elementsv1.js", "add-rm-pkg-deps.js", "api-pipeline.js",
    "array-includes.js", "background-img-opts.js", "canvas-blending.js", "check-response.js",
    "chromium-versions.js", "client-hints-dpr-width-viewport.js", "css-any-link.js",
    "css-in-out-of-range.js", "css-nth-child-of.js", "debug-id-stamping.js", "did-you-mean.js",
    "get-bin-from-manifest.js", "get-code-injection-position.js", "hash-to-segments.js",
    "link-rel-dns-prefetch.js", "lru-memoizer.js", "once-event-listener.js", "qrcode-terminal.js",
    "source-map-consumer.js", "sourcemap-settings.js", "strip-json-comments.js",
    "validate-lockfile.js", "version-from-tgz.js", "with-temp-dir.js",
]


@pytest.mark.parametrize("file", ORDINARY_NAMES)
def test_strip_content_hash_keeps_ordinary_names(file):
    assert strip_content_hash(file) == file
    assert strip_content_hash(f"https://cdn.example/lib/{file}") == f"https://cdn.example/lib/{file}"


@pytest.mark.parametrize(
    "file",
    [
        "a." * 200_000 + "js", "-" + "0a" * 200_000 + ".js", "a-" * 200_000 + "js",
        "/" * 400_000 + "x.js", ".-" * 200_000 + ".js",
    ],
    ids=["dots", "one-long-hex-segment", "dashes", "slashes", "separators"],
)
def test_strip_content_hash_stays_linear(file):
    started = time.perf_counter()
    strip_content_hash(file)

    assert time.perf_counter() - started < 0.5


@settings(max_examples=300, deadline=None)
@given(directory=st.text(max_size=20).map(lambda text: text + "/"), name=st.text(max_size=40))
def test_strip_content_hash_never_raises_and_keeps_the_directory(directory, name):
    assert strip_content_hash(directory + name).startswith(directory)
