"""The Python parser against notes, messages holding another traceback and code compiled at run
time, recorded from real runtimes (see tests/fixtures/python_formats/README.md)."""

import json
from pathlib import Path

import pytest

from grouping.python import python_in_app
from grouping.stacktrace import PYTHON, parse_stack

CASES = json.loads((Path(__file__).parent / "fixtures" / "python_formats" / "tracebacks.json").read_text())


def test_every_scenario_is_recorded_under_python_3_11_to_3_13_and_2_7_where_it_exists():
    runtimes = {}
    for case in CASES:
        runtimes.setdefault(case["scenario"], set()).add(case["runtime"].rsplit(".", 1)[0])

    python_3 = {"CPython 3.11", "CPython 3.12", "CPython 3.13"}
    assert all(python_3 <= recorded for recorded in runtimes.values())
    assert {name for name, recorded in runtimes.items() if "CPython 2.7" in recorded} >= {
        "message_with_child_traceback", "message_with_subprocess_stderr", "exec_string", "eval_string",
    }


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_culprit_and_frames_are_the_raised_exceptions(case):
    stack = parse_stack(case["traceback"])

    assert stack.language == PYTHON
    culprit = stack.culprit
    assert (culprit.file, culprit.line, culprit.function) == (
        case["culprit"]["file"], case["culprit"]["line"], case["culprit"]["function"]
    )
    assert [(f.file, f.line, f.in_app) for f in stack.frames] == [
        (f["file"], f["line"], f["in_app"]) for f in case["frames"]
    ]


@pytest.mark.parametrize(
    "file, in_app",
    [
        ("<string>", True),
        ("<stdin>", True),
        ("<console>", True),
        ("<ipython-input-3-5d2c1a9f0b7e>", True),
        ("<frozen importlib._bootstrap>", False),
        ("<frozen runpy>", False),
        ("<decorator-gen-12>", False),
    ],
)
def test_code_the_app_compiles_itself_is_in_app_and_the_runtimes_is_not(file, in_app):
    assert python_in_app(file) is in_app


def test_a_note_after_the_exception_line_is_not_a_frame():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/views.py", line 4, in handler\n'
        "    raise KeyError(name)\n"
        "KeyError: 'email'\n"
        '  File "/srv/app/settings.py", line 12, in <module>\n'
    )

    assert [f.file for f in parse_stack(text).frames] == ["/srv/app/views.py"]


def test_a_traceback_on_the_exception_lines_first_line_is_its_message():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/jobs.py", line 9, in supervise\n'
        "    raise RuntimeError('worker failed: ' + text)\n"
        "RuntimeError: worker failed: Traceback (most recent call last):\n"
        '  File "/srv/app/worker.py", line 3, in run\n'
        "ZeroDivisionError: division by zero\n"
    )

    assert parse_stack(text).culprit.file == "/srv/app/jobs.py"


def test_a_label_on_the_header_line_only_still_finds_the_exception_line():
    text = (
        "job 7 failed: Traceback (most recent call last):\n"
        '  File "/srv/app/jobs.py", line 9, in supervise\n'
        "    fail(text)\n"
        "RuntimeError: worker failed:\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/worker.py", line 3, in run\n'
        "ZeroDivisionError: division by zero\n"
    )

    assert parse_stack(text).culprit.file == "/srv/app/jobs.py"
