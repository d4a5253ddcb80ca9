"""JavaScript stacks as V8, SpiderMonkey, JavaScriptCore, Hermes and Presto-era Opera print them
-> frames. Pure: no Django imports.

Line by line with string methods and anchored, non-nested patterns: linear in the input, never
raising.
"""

import re

from .frames import JAVASCRIPT, MAX_FRAMES, Frame, Stack, line_number

_JS_LIBRARY_MARKERS = ("/node_modules/", "\\node_modules\\", "webpack/runtime/")
_JS_NOT_IN_APP_FILES = {"<anonymous>", "native", "[native code]", ""}
# Browser extensions, and Node.js's own modules: `node:fs`, `node:internal/…`, and before
# Node.js 16 a bare `internal/…`.
_JS_NOT_IN_APP_PREFIXES = (
    "chrome-extension:",
    "moz-extension:",
    "safari-extension:",
    "safari-web-extension:",
    "node:",
    "internal/",
)
_SAFARI_EXTENSION_SCHEMES = ("safari-extension:", "safari-web-extension:")
# Opera 9 and 10 print `Line 5 of inline#1 script in URL: In function checkout` (or `of linked
# script URL`; code from eval or an event handler names no URL); Opera 11 and 12 `called from
# line 5, column 7 in checkout(attempt) in URL:`, the first frame `Error thrown at line …`.
_OPERA_SCRIPT_LINE = r"(?:\.\.\.\s*)?Line ([0-9]{1,9}) of (?:linked|inline#[0-9]{1,9}|function|eval) script\b"
_OPERA_CALL_LINE = r"(?:Error thrown at|called from) line ([0-9]{1,9}), column ([0-9]{1,9}) in "
_OPERA_FRAME = re.compile(f"{_OPERA_SCRIPT_LINE}|{_OPERA_CALL_LINE}")
# Which lines can be JavaScript frames, decided by the regex engine so that Python code runs
# only for lines that are frames (and stops at MAX_FRAMES): 256 KB of near-misses would
# otherwise cost a Python call each. A frame is a V8 `at ` line or an Opera one; or it has `@`,
# `://` or a leading `/` and ends in a line number or `@[native code]`; or it holds
# SpiderMonkey's `line N > eval`. Anchored alternatives without nested repeats keep the search
# linear.
_JS_FRAME_LINE = re.compile(
    rf"^\s*(?:at |{_OPERA_SCRIPT_LINE}|{_OPERA_CALL_LINE})"
    r"|^(?=.*(?:@|://)|\s*/).*(?::[0-9]{1,9}|@\[native code\])\s*$"
    r"| line [0-9]+ > (?:eval|Function)"
)
# The `@` that starts a SpiderMonkey or JavaScriptCore frame's location, when the location is
# absolute: a scheme, a path or native code. Function names hold `@` too (JavaScriptCore's
# `a@b@/srv/x.js:1:2`), and so do URLs (`https://cdn.example/@scope/pkg@1.2.3/x.js`).
_AT_ABSOLUTE_LOCATION = re.compile(r"@(?=[A-Za-z][A-Za-z0-9+.-]{0,31}:|/|\[native code\])")


def parse_javascript_stack(lines):
    """V8 and Hermes (`at fn (url:l:c)`), SpiderMonkey and JavaScriptCore (`fn@url:l:c`) and
    Opera 9-12 frames."""
    frames = []
    for raw in filter(_JS_FRAME_LINE.search, lines):
        frame = _parse_javascript_line(raw.strip())
        if frame is not None:
            frames.append(frame)
            if len(frames) == MAX_FRAMES:
                break
    return Stack(JAVASCRIPT, tuple(frames))


def _parse_javascript_line(line):
    if line.startswith("Error created at "):
        return None  # Opera 11 repeats where the Error object was made: not a call
    if line.startswith("at "):
        return _parse_v8_frame(line[3:].strip())
    opera = _OPERA_FRAME.match(line)
    if opera:
        return _parse_opera_frame(opera, line)
    if "@" in line:
        function, location = _split_at_sign(line)
        if function.endswith("([arguments not available])"):
            function = _opera_function_name(function)
        if location == "[native code]":
            return _js_frame(location, None, None, function)
        return _frame_at(location, function, need_line=True)
    if "://" in line or line.startswith("/"):
        return _frame_at(line, "", need_line=True)
    return None


def _split_at_sign(line):
    """`function@location` -> (function, location), split at the `@` that starts the location.

    SpiderMonkey quotes computed names (`coupons["@apply"]@Scratchpad/2:7:15`): an `@` inside
    the quotes is the function's. After them, an absolute location's `@` is the first one
    followed by a scheme or a path; a relative location's (`addToCart@index.android.bundle:1:2`)
    the first.
    """
    start = line.rfind('"') + 1
    if line.find("@", start) < 0:
        start = 0
    absolute = _AT_ABSOLUTE_LOCATION.search(line, start)
    at = absolute.start() if absolute else line.find("@", start)
    return line[:at], line[at + 1 :]


def _parse_v8_frame(body):
    body = body.removeprefix("async ")
    spaced_at = body.find(" (")
    if spaced_at > 0 and body.endswith(")"):
        function, location = body[:spaced_at], body[spaced_at + 2 : -1]
    elif "(" not in body:
        function, location = "", body
    else:
        function, location = _split_unusual_v8_call(body, spaced_at)
    if location.startswith(("address at ", "eval at ")):
        location = _code_location(location)
    return _frame_at(location, function)


def _code_location(location):
    """Where the code of a Hermes bytecode or V8 `eval` frame is."""
    if location.startswith("address at "):
        # Hermes: `address at bundle:1:offset`, an offset into bytecode without debug info.
        return location[len("address at ") :]
    # `eval at outer (url:l:c), <anonymous>:l:c`: the eval'd code lives at its caller.
    start, end = location.find("("), location.find(")")
    return location[start + 1 : end] if 0 <= start < end else location


def _split_unusual_v8_call(body, spaced_at):
    """(function, location) of a V8 frame that is not `function (location)`; `spaced_at` is
    where its ` (` is, or -1.

    A frame cut short has no closing parenthesis; React Native's and webpack's `eval` frames
    have no space before the opening one (`Object.eval(webpack:///./x.js:3:7)`). A bare
    location may hold parentheses itself (`/srv/Copy (2)/x.js:1:2`, `/srv/(group)/x.js:1:2`):
    a parenthesis opens the location only if that location ends the frame or holds no `)`.
    """
    if spaced_at > 0:
        location = body[spaced_at + 2 :]
        return (body[:spaced_at], location) if ")" not in location else ("", body)
    open_at = body.find("(")
    function, location = body[:open_at], body[open_at + 1 :]
    if function.endswith(_SAFARI_EXTENSION_SCHEMES):
        return _split_safari_extension(function, location)
    if function and location.endswith(")"):
        return function, location[:-1]
    if function and ")" not in location:
        return function, location
    return "", body


def _split_safari_extension(head, path):
    """Safari puts an extension's path in parentheses: (`fn@safari-extension:`, `//id/x.js:1:2)`)
    -> (`fn`, `safari-extension://id/x.js:1:2`)."""
    function, _, scheme = head.rpartition("@")
    return function, scheme + path.removesuffix(")")


def _parse_opera_frame(match, line):
    rest = line[match.end() :]
    if match[1]:
        # ` URL` after `linked script`, ` in URL` after `inline#1 script`, either maybe followed
        # by `: In function F`.
        location = rest.strip().removeprefix("in ")
        file, _, function = location.partition(": In function ")
        return _js_frame(file, int(match[1]), None, function)
    if not rest.endswith(":"):
        return None
    call, _, file = rest[:-1].rpartition(" in ")
    return _js_frame(file, int(match[2]), int(match[3]), _opera_function_name(call))


def _opera_function_name(call):
    """Opera 11 and 12 print arguments: `submitOrder(basket)` -> `submitOrder`,
    `<anonymous function: print>([arguments not available])` -> `print`."""
    name = call.partition("(")[0]
    if name.startswith("<anonymous function: ") and name.endswith(">"):
        return name[len("<anonymous function: ") : -1]
    return name


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


def without_query(file):
    """A script's URL without its query string and fragment, so cache-busters (`app.js?v=3`)
    do not split groups."""
    if "?" in file:
        file = file.split("?", 1)[0]
    if "#" in file:
        file = file.split("#", 1)[0]
    return file


def _js_frame(file, line, column, function):
    file = without_query(file.strip())
    return Frame(
        file=file,
        line=line,
        column=column,
        function=function.strip(),
        in_app=javascript_in_app(file, line),
    )


def javascript_in_app(file, line):
    """Whether a frame is the app's own code rather than the runtime's, a library's, a browser
    extension's or the bundler's (webpack's chunk loading and module runtime)."""
    if line is None or file in _JS_NOT_IN_APP_FILES or file.startswith(_JS_NOT_IN_APP_PREFIXES):
        return False
    if any(marker in file for marker in _JS_LIBRARY_MARKERS):
        return False
    # webpack 1 names node_modules `~` in its module ids: webpack:///./~/react-dom/...
    return not (file.startswith("webpack:") and "/~/" in file)
