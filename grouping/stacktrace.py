"""Stack-trace text -> frames, and the frame that names the bug. Pure: no Django imports.

Everything here works line by line with string methods and anchored, non-nested patterns, so
parsing is linear in the input and never raises on arbitrary text.
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

PYTHON = "python"
JAVASCRIPT = "javascript"
UNKNOWN = "unknown"

_PY_FRAME = re.compile(r'File "(?P<file>[^"\n]*)", line (?P<line>[0-9]+)(?:, in (?P<function>.*))?')
_PY_STDLIB = re.compile(r"/lib/python\d+(?:\.\d+)?/")
_JS_NOT_IN_APP_FILES = {"<anonymous>", "native", "[native code]", ""}
_JS_EXTENSION_SCHEMES = ("chrome-extension:", "moz-extension:", "safari-extension:", "safari-web-extension:")
# Enough for any real stack (V8 keeps 10, Sentry 250); a recursion's thousands add nothing.
MAX_FRAMES = 250
# Line and column numbers have at most nine digits; longer ones are not real, and would
# overflow the database's integer column.
MAX_LINE_DIGITS = 9
# Which lines can be JavaScript frames, decided by the regex engine so that Python code runs
# only for lines that are frames (and stops at MAX_FRAMES): 256 KB of near-misses would
# otherwise cost a Python call each. A frame is a V8 `at ` line; or it has `@`, `://` or a
# leading `/` and ends in a line number or `@[native code]`; or it holds SpiderMonkey's
# `line N > eval`. Anchored alternatives without nested repeats keep the search linear.
_JS_FRAME_LINE = re.compile(
    r"^\s*at "
    r"|^(?=.*(?:@|://)|\s*/).*(?::[0-9]{1,9}|@\[native code\])\s*$"
    r"| line [0-9]+ > (?:eval|Function)"
)


class Frame(NamedTuple):
    file: str
    line: int | None
    column: int | None = None
    function: str = ""
    in_app: bool = True


@dataclass(frozen=True)
class Stack:
    """The frames of one exception, in the order the runtime printed them."""

    language: str
    frames: tuple[Frame, ...] = ()

    @property
    def culprit(self):
        """The innermost in-app frame, else the innermost frame, else None.

        Python prints the innermost call last; JavaScript engines print it first.
        """
        innermost_first = self.frames[::-1] if self.language == PYTHON else self.frames
        for frame in innermost_first:
            if frame.in_app:
                return frame
        return innermost_first[0] if innermost_first else None


def parse_stack(text):
    """Parse a Python traceback or a JavaScript stack; unknown text gives no frames."""
    if not text:
        return Stack(UNKNOWN)
    lines = text.splitlines()
    if 'File "' in text:
        python = parse_python_traceback(lines)
        if python.frames:
            return python
    javascript = parse_javascript_stack(lines)
    if javascript.frames:
        return javascript
    return Stack(UNKNOWN)


# --- Python --------------------------------------------------------------------------------


def parse_python_traceback(lines):
    """Frames of the last exception printed.

    Chained exceptions print the cause first, so each new top-level `Traceback` header starts
    over. An `ExceptionGroup` prints its own frames behind a `| ` gutter, then its
    sub-exceptions from the first `+-+---` separator on: only the group's own frames count.
    Lines may carry any prefix (log timestamps, `docker compose` gutters).
    """
    frames = []
    group_prefix = None  # text before the `+` of the group header being read
    in_sub_exceptions = False
    for raw in lines:
        if group_prefix is not None:
            body = raw[len(group_prefix):] if raw.startswith(group_prefix) else raw
            inside = body.lstrip().startswith(("|", "+"))
            if inside and body.startswith("+-"):
                in_sub_exceptions = True
            if inside and in_sub_exceptions:
                continue
            if not inside:
                group_prefix, in_sub_exceptions = None, False
        if "Traceback (most recent call last):" in raw:
            marker = raw.find("+ Exception Group Traceback")
            if marker >= 0 and group_prefix is None:
                group_prefix = raw[:marker]
            frames = []
            continue
        match = _PY_FRAME.search(raw) if 'File "' in raw else None
        if match:
            frames.append(match)  # made a Frame below only if among the last MAX_FRAMES
            if len(frames) > 2 * MAX_FRAMES:
                del frames[:-MAX_FRAMES]
    return Stack(PYTHON, tuple(_python_frame(match) for match in frames[-MAX_FRAMES:]))


def _python_frame(match):
    file = match["file"]
    return Frame(
        file=file,
        line=_line_number(match["line"]),
        function=(match["function"] or "").strip(),
        in_app=_python_in_app(file),
    )


def _python_in_app(file):
    if file.startswith("<"):  # <frozen importlib._bootstrap>, <string>, <stdin>: no source file
        return False
    if "\\Lib\\" in file:
        return False
    path = file.replace("\\", "/").lower()
    if "/site-packages/" in path or "/dist-packages/" in path:
        return False
    return not _PY_STDLIB.search(path)


# --- JavaScript ----------------------------------------------------------------------------


def parse_javascript_stack(lines):
    """V8 (`at fn (url:l:c)`), SpiderMonkey and JavaScriptCore (`fn@url:l:c`) frames."""
    frames = []
    for raw in filter(_JS_FRAME_LINE.search, lines):
        frame = _parse_javascript_line(raw.strip())
        if frame is not None:
            frames.append(frame)
            if len(frames) == MAX_FRAMES:
                break
    return Stack(JAVASCRIPT, tuple(frames))


def _parse_javascript_line(line):
    if line.startswith("at "):
        return _parse_v8_frame(line[3:].strip())
    if "@" in line:
        function, _, location = line.partition("@")
        if location == "[native code]":
            return _js_frame(location, None, None, function)
        return _frame_at(location, function, need_line=True)
    if "://" in line or line.startswith("/"):
        return _frame_at(line, "", need_line=True)
    return None


def _parse_v8_frame(body):
    body = body.removeprefix("async ")
    if body.endswith(")") and " (" in body:
        function, _, location = body[:-1].partition(" (")
    else:
        function, location = "", body
    if location.startswith("eval at "):
        # `eval at outer (url:l:c), <anonymous>:l:c`: the eval'd code lives at its caller.
        start, end = location.find("("), location.find(")")
        location = location[start + 1 : end] if 0 <= start < end else location
    return _frame_at(location, function)


def _frame_at(location, function, need_line=False):
    """The frame at `location`; None if `need_line` and the location names no line."""
    if " line " in location and (" > eval" in location or " > Function" in location):
        # SpiderMonkey: `url line N > eval:l:c` names the line of the eval call in url.
        file, _, rest = location.partition(" line ")
        line, column = _line_number(rest.split(" ", 1)[0]), None
    else:
        file, line, column = _split_location(location)
    if need_line and line is None:
        return None
    return _js_frame(file, line, column, function)


def _split_location(location):
    """`url:line:col` or `url:line` -> (url, line, col); no numbers -> (location, None, None)."""
    head, sep, last = location.rpartition(":")
    number = _line_number(last) if sep else None
    if number is None:
        return location, None, None
    inner_head, inner_sep, middle = head.rpartition(":")
    line = _line_number(middle) if inner_sep else None
    if line is not None:
        return inner_head, line, number
    return head, number, None


def _line_number(text):
    """`text` as a line or column number if it is one: one to MAX_LINE_DIGITS ASCII digits."""
    if len(text) > MAX_LINE_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def _js_frame(file, line, column, function):
    file = file.strip()
    if "?" in file:
        file = file.split("?", 1)[0]
    if "#" in file:
        file = file.split("#", 1)[0]
    return Frame(
        file=file,
        line=line,
        column=column,
        function=function.strip(),
        in_app=_javascript_in_app(file, line),
    )


def _javascript_in_app(file, line):
    if line is None or file in _JS_NOT_IN_APP_FILES:
        return False
    if file.startswith(_JS_EXTENSION_SCHEMES):
        return False
    return "/node_modules/" not in file
