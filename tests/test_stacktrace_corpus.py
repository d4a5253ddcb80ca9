"""The parser against tracebacks recorded from real runtimes (see tests/fixtures/README.md)."""

import json
from pathlib import Path

import pytest

from grouping.stacktrace import JAVASCRIPT, PYTHON, parse_stack

FIXTURES = Path(__file__).parent / "fixtures"
PYTHON_CASES = json.loads((FIXTURES / "python_tracebacks.json").read_text())


def test_python_corpus_covers_three_runtimes_and_enough_cases():
    assert len(PYTHON_CASES) >= 40
    assert {case["runtime"].rsplit(".", 1)[0] for case in PYTHON_CASES} == {"CPython 3.11", "CPython 3.12", "CPython 3.13"}


def recorded_in_app(frame):
    """The recorder's `app` origin, and code the app compiled itself (`compile(…, "<string>")`);
    the runtime's `<frozen …>` modules are not the app's."""
    return frame["origin"] == "app" or frame["file"] == "<string>"


@pytest.mark.parametrize("case", PYTHON_CASES, ids=[case["name"] for case in PYTHON_CASES])
def test_python_culprit_and_in_app_match_the_runtime(case):
    stack = parse_stack(case["traceback"])

    assert stack.language == PYTHON
    # The innermost app frame, as the recorder picks it, with `<string>` counted as the app's.
    culprit = ([frame for frame in case["frames"] if recorded_in_app(frame)] or case["frames"])[-1]
    assert (stack.culprit.file, stack.culprit.line) == (culprit["file"], culprit["line"])
    expected_in_app = {frame["file"]: recorded_in_app(frame) for frame in case["frames"]}
    assert {frame.file: frame.in_app for frame in stack.frames} == expected_in_app
    if "[Previous line repeated" not in case["traceback"]:
        assert [(f.file, f.line) for f in stack.frames] == [(f["file"], f["line"]) for f in case["frames"]]


JAVASCRIPT_CASES = json.loads((FIXTURES / "javascript_stacks.json").read_text())


def test_javascript_corpus_covers_three_engines_and_enough_cases():
    assert len(JAVASCRIPT_CASES) >= 30
    engines = {case["runtime"].split()[0] for case in JAVASCRIPT_CASES}
    assert {"Chromium", "Mozilla", "JavaScriptCore"} <= engines


@pytest.mark.parametrize("case", JAVASCRIPT_CASES, ids=[case["name"] for case in JAVASCRIPT_CASES])
def test_javascript_culprit_and_in_app_match_the_runtime(case):
    stack = parse_stack(case["stack"])

    assert stack.language == JAVASCRIPT
    assert (stack.culprit.file, stack.culprit.line) == (case["culprit"]["file"], case["culprit"]["line"])
    for frame in stack.frames:
        assert frame.in_app == (frame.file in case["app_files"] and frame.line is not None), frame
