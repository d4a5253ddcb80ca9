"""The JavaScript parser against stack formats that real runtimes print: stacks recorded here from
runtimes, and stacks authored here in formats that other projects' test suites document (see
tests/fixtures/javascript_formats/README.md)."""

import json
from pathlib import Path

import pytest

from grouping.stacktrace import JAVASCRIPT, parse_stack

FIXTURES = Path(__file__).parent / "fixtures" / "javascript_formats"
CASES = [case for name in ("authored.json", "recorded.json") for case in json.loads((FIXTURES / name).read_text())]
KINDS = {"v8-no-space", "at-sign", "hermes", "safari-extension", "webpack-runtime", "opera", "node-internal"}


def ids(cases):
    return [case["name"] for case in cases]


def without_query(file):
    """An expected file as the tracker keeps it: a query string or fragment does not make a new file."""
    return file.split("?", 1)[0].split("#", 1)[0]


def test_every_format_has_authored_or_recorded_fixtures():
    assert {case["kind"] for case in CASES} == KINDS
    assert all(case["source"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_culprit_matches_the_source(case):
    stack = parse_stack(case["stack"])

    assert stack.language == JAVASCRIPT
    expected = case["culprit"]
    if expected is None:
        # Only an extension's or webpack's runtime frames: none of them is the app's bug.
        assert not stack.culprit.in_app
        return
    assert (stack.culprit.file, stack.culprit.line) == (without_query(expected["file"]), expected["line"])
    if "function" in expected:
        assert stack.culprit.function == expected["function"]


FRAME_CASES = [case for case in CASES if "frames" in case]


@pytest.mark.parametrize("case", FRAME_CASES, ids=ids(FRAME_CASES))
def test_frames_and_in_app_match_the_source(case):
    # Frames without a line (`native`, `[native code]`) are never the app's and are not listed;
    # `frames_complete` is false where a case lists only the innermost frames.
    frames = [frame for frame in parse_stack(case["stack"]).frames if frame.line is not None]
    expected = case["frames"]
    if not case["frames_complete"]:
        frames = frames[: len(expected)]

    assert [(frame.file, frame.line) for frame in frames] == [(without_query(e["file"]), e["line"]) for e in expected]
    for frame, e in zip(frames, expected):
        if e["in_app"] is not None:
            assert frame.in_app == e["in_app"], frame


APP_FILE_CASES = [case for case in CASES if "app_files" in case]


@pytest.mark.parametrize("case", APP_FILE_CASES, ids=ids(APP_FILE_CASES))
def test_only_the_app_s_own_files_are_in_app(case):
    for frame in parse_stack(case["stack"]).frames:
        assert frame.in_app == (frame.file in case["app_files"] and frame.line is not None), frame
