"""Stack-trace parsing and the culprit frame (pure functions, no database)."""

from errors.fingerprint import FUNCTION, LINE, compute_fingerprint
from errors.stacktrace import JAVASCRIPT, PYTHON, UNKNOWN, Frame, parse_stack
from tests.factories import javascript_stack, python_traceback


def test_python_culprit_is_the_innermost_frame():
    stack = parse_stack(python_traceback(file="/srv/app/views.py", line=42, function="handler"))

    assert stack.language == PYTHON
    assert [f.file for f in stack.frames] == ["/srv/app/main.py", "/srv/app/views.py"]
    assert stack.culprit == Frame(file="/srv/app/views.py", line=42, function="handler", in_app=True)


def test_python_library_frames_are_not_the_culprit():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/views.py", line 7, in load\n'
        '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads\n'
        '  File "/srv/app/.venv/lib/python3.11/site-packages/requests/api.py", line 59, in get\n'
        "ValueError: boom\n"
    )

    stack = parse_stack(text)

    assert [f.in_app for f in stack.frames] == [True, False, False]
    assert (stack.culprit.file, stack.culprit.line) == ("/srv/app/views.py", 7)


def test_python_chained_exception_uses_the_last_traceback():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/a.py", line 1, in first\n'
        "KeyError: 'x'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/b.py", line 2, in second\n'
        "ValueError: y\n"
    )

    assert parse_stack(text).culprit.file == "/srv/app/b.py"


def test_javascript_v8_culprit_is_the_first_frame():
    stack = parse_stack(javascript_stack(url="https://x.example/app.js", line=17, column=9))

    assert stack.language == JAVASCRIPT
    assert stack.culprit == Frame(file="https://x.example/app.js", line=17, column=9, function="renderCart")


def test_javascript_query_string_does_not_split_groups():
    a = parse_stack(javascript_stack(url="https://x.example/app.js?v=1"))
    b = parse_stack(javascript_stack(url="https://x.example/app.js?v=2#frag"))

    assert a.culprit.file == b.culprit.file == "https://x.example/app.js"


def test_firefox_and_safari_frames_parse():
    firefox = parse_stack("renderCart@https://x.example/app.js:17:9\n@https://x.example/app.js:120:3\n")
    safari = parse_stack("renderCart@https://x.example/app.js:17:9\nglobal code@https://x.example/app.js:1:1\n")

    assert (firefox.culprit.file, firefox.culprit.line, firefox.culprit.function) == (
        "https://x.example/app.js", 17, "renderCart"
    )
    assert safari.culprit.line == 17


def test_text_without_frames_has_no_culprit():
    assert parse_stack("").culprit is None
    assert parse_stack("just a message, no frames").language == UNKNOWN
    assert parse_stack("Error: mail user@example.com failed").culprit is None


def test_function_strategy_ignores_the_line():
    moved = Frame(file="/srv/app/views.py", line=50, function="handler")
    original = Frame(file="/srv/app/views.py", line=42, function="handler")

    assert compute_fingerprint("p", "E", moved, FUNCTION) == compute_fingerprint("p", "E", original, FUNCTION)
    assert compute_fingerprint("p", "E", moved, LINE) != compute_fingerprint("p", "E", original, LINE)
