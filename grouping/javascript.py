"""JavaScript stacks as V8, SpiderMonkey and JavaScriptCore print them -> frames. Pure: no
Django imports.

Line by line with string methods and anchored, non-nested patterns: linear in the input, never
raising.
"""

import re

from .frames import JAVASCRIPT, MAX_FRAMES, Frame, Stack, line_number

_JS_NOT_IN_APP_FILES = {"<anonymous>", "native", "[native code]", ""}
_JS_EXTENSION_SCHEMES = ("chrome-extension:", "moz-extension:", "safari-extension:", "safari-web-extension:")
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
        line, column = line_number(rest.split(" ", 1)[0]), None
    else:
        file, line, column = _split_location(location)
    if need_line and line is None:
        return None
    return _js_frame(file, line, column, function)


def _split_location(location):
    """`url:line:col` or `url:line` -> (url, line, col); no numbers -> (location, None, None)."""
    head, sep, last = location.rpartition(":")
    number = line_number(last) if sep else None
    if number is None:
        return location, None, None
    inner_head, inner_sep, middle = head.rpartition(":")
    line = line_number(middle) if inner_sep else None
    if line is not None:
        return inner_head, line, number
    return head, number, None


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
        in_app=javascript_in_app(file, line),
    )


def javascript_in_app(file, line):
    if line is None or file in _JS_NOT_IN_APP_FILES:
        return False
    if file.startswith(_JS_EXTENSION_SCHEMES):
        return False
    return "/node_modules/" not in file
