"""The parser never raises and stays linear, whatever text a client sends."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grouping.stacktrace import MAX_FRAMES, parse_stack

BODY_CAP = 256 * 1024

ADVERSARIAL = {
    "at-open-paren": "at (" * (BODY_CAP // 4),
    "at-open-paren-lines": "at (\n" * (BODY_CAP // 5),
    "nested-parens": "    at " + "(" * (BODY_CAP // 2) + ")" * (BODY_CAP // 2 - 8),
    "file-quotes": 'File "' * (BODY_CAP // 6),
    "file-quote-then-short-lines": 'File "' + "a\n" * (BODY_CAP // 2),
    "colons": ":" * BODY_CAP,
    "digit-colons": "1:" * (BODY_CAP // 2),
    "at-signs": "@" * BODY_CAP,
    "eval-at": "at eval (eval at " * (BODY_CAP // 17),
    "firefox-eval": "@x line 1 > eval" * (BODY_CAP // 16),
    "minimal-python-frames": 'File "", line 1\n' * (BODY_CAP // 16),
    "group-gutters": "  + Exception Group Traceback (most recent call last):\n" + "  |" * (BODY_CAP // 3),
    "headers-frames-separators": (
        "Traceback (most recent call last):\n"
        '  File "a", line 1, in f\n'
        "The above exception was the direct cause of the following exception:\n"
    ) * (BODY_CAP // 130),
    "headers-exception-lines-frames": 'Traceback (most recent call last):\nE:\n  File "a", line 1\n' * (BODY_CAP // 60),
    "exception-line-then-chained-headers": "Traceback (most recent call last):\nE: x\n" + (
        "During handling of the above exception, another exception occurred:\n"
        "Traceback (most recent call last):\nE:\n"
    ) * (BODY_CAP // 110),
    "long-exception-name": "Traceback (most recent call last):\n" + "a." * (BODY_CAP // 2 - 20) + "(",
    "long-header-prefix-near-misses": (
        "x" * 1000 + "Traceback (most recent call last):\n" + ("x" * 999 + "y\n") * (BODY_CAP // 1001 - 1)
    ),
    "newlines": "\n" * BODY_CAP,
    "at-sign-lines": "@\n" * (BODY_CAP // 2),
    "slash-lines": "/\n" * (BODY_CAP // 2),
    "colon-number-lines": ":1\n" * (BODY_CAP // 3),
    "too-big-line-numbers": "@:9999999999\n" * (BODY_CAP // 13),
    "nine-digit-line-numbers": "@:999999999\n" * (BODY_CAP // 12),
    "v8-calls-without-space-or-close": "    at " + "a(" * (BODY_CAP // 2 - 4),
    "v8-calls-without-close": "at a (" * (BODY_CAP // 6),
    "v8-call-without-close-lines": "at a (b:1\n" * (BODY_CAP // 10),
    "quoted-at-signs": '"' + "@" * (BODY_CAP - 3) + ":1",
    "at-sign-paths": "@/" * (BODY_CAP // 2 - 1) + ":1",
    "at-sign-words": "a@" * (BODY_CAP // 2 - 1) + ":1",
    "at-sign-scheme-prefixes": ("@" + "a" * 31) * (BODY_CAP // 32 - 1) + ":1",
    "opera-linked-script": "Line 1 of linked script " * (BODY_CAP // 24),
    "opera-linked-script-lines": "  Line 1 of linked script x: In function f\n" * (BODY_CAP // 44),
    "opera-called-from": "called from line 1, column 1 in " * (BODY_CAP // 32),
    "opera-called-from-lines": "called from line 1, column 1 in f() in x:\n" * (BODY_CAP // 42),
    "opera-in-function": "Line 1 of linked script x" + ": In function " * (BODY_CAP // 14 - 2),
    "hermes-address-at": "at f (address at " * (BODY_CAP // 17),
    "safari-extension-parentheses": "at f@safari-extension:(" + "(" * (BODY_CAP - 24),
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_input_parses_without_backtracking(text):
    started = time.perf_counter()
    stack = parse_stack(text)
    elapsed = time.perf_counter() - started

    assert len(stack.frames) <= MAX_FRAMES
    # A catastrophic pattern takes minutes on these inputs; the real figure is in bench/.
    assert elapsed < 2.0


@pytest.mark.parametrize(
    "text",
    [
        'Traceback (most recent call last):\n  File "/srv/app/a.py", line ' + "9" * 5000 + ", in f\nE: x",
        "    at f (https://x.example/a.js:" + "9" * 5000 + ":1)",
        "f@https://x.example/a.js:99999999999:1",
        "f@https://x.example/a.js:\u00b2:1",
        "    at f (https://x.example/a.js:\u0661\u0662:3)",
        'Traceback (most recent call last):\n  File "/srv/app/a.py", line \u0661\u0662, in f\nE: x',
    ],
    ids=["python-5000-digits", "v8-5000-digits", "beyond-int32", "superscript-digit", "arabic-indic-digits", "python-arabic-indic"],
)
def test_numbers_that_are_not_line_numbers_never_raise_and_are_not_stored(text):
    stack = parse_stack(text)

    # Nine digits at most: every engine's integer column holds it.
    assert all(frame.line is None or 0 <= frame.line < 10**9 for frame in stack.frames)
    assert all(frame.column is None or 0 <= frame.column < 10**9 for frame in stack.frames)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text):
    stack = parse_stack(text)

    assert stack.language in ("python", "javascript", "unknown")
    if stack.frames:
        assert stack.culprit in stack.frames


FRAME_LINES = st.sampled_from([
    'Traceback (most recent call last):\n',
    '  File "/srv/app/x.py", line 3, in f\n',
    '  + Exception Group Traceback (most recent call last):\n',
    '  |   File "/srv/app/y.py", line 9, in g\n',
    '  +-+---------------- 1 ----------------\n',
    '    at fn (https://x.example/a.js:1:2)\n',
    'fn@https://x.example/a.js:3:4\n',
    '@\n', 'at \n', '(\n', ')\n', ':\n', 'ValueError: x\n',
    'The above exception was the direct cause of the following exception:\n',
    'During handling of the above exception, another exception occurred:\n',
    'RuntimeError: worker failed: Traceback (most recent call last):\n', '"""\n',
    '2026-11-28 04:00:00 ERROR Traceback (most recent call last):\n',
    '2026-11-28 04:00:00 ERROR   File "/srv/app/w.py", line 4, in run\n', '  | ExceptionGroup: eg\n',
    'fn@https://x.example/a.js:\u00b2:1\n', '  File "/srv/app/z.py", line 99999999999, in h\n',
    '    at fn(https://x.example/a.js:1:2)\n', '    at fn (https://x.example/a.js:1:2\n', 'obj["@x"]@a@/b.js:1:2\n',
    '    at fn (address at /b/index.android.bundle:1:9)\n', '    at f@safari-extension:(//id/x.js:1:2)\n',
    '  Line 3 of inline#1 script in http://x.example/: In function f\n', 'Line 1 of eval script\n',
    'called from line 2, column 3 in f(a) in http://x.example/a.js:\n', 'Error thrown at line 1, column 1 in\n',
    '    at f (webpack/runtime/jsonp chunk loading:31:22)\n', '    at f (node:fs:448:20)\n',
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAME_LINES, st.text(max_size=40)), max_size=60))
def test_mixed_frame_like_lines_never_raise(lines):
    stack = parse_stack("".join(lines))

    for frame in stack.frames:
        assert frame.line is None or frame.line >= 0
