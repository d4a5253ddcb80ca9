"""Python tracebacks as CPython prints them -> frames. Pure: no Django imports.

Line by line with string methods and anchored patterns: linear in the input, never raising.
"""

import re

from .frames import MAX_FRAMES, PYTHON, Frame, Stack, line_number

_HEADER = "Traceback (most recent call last):"
_GROUP_HEADER = "+ Exception Group Traceback (most recent call last):"
_CHAIN_SEPARATORS = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_PY_FRAME = re.compile(r'File "(?P<file>[^"\n]*)", line (?P<line>[0-9]+)(?:, in (?P<function>.*))?')
# `ValueError: …`, `json.decoder.JSONDecodeError: …`, `f.<locals>.Error`, a bare `KeyboardInterrupt`.
_EXCEPTION_LINE = re.compile(r"[^\W\d][\w.<>]*(?::|$)")
_PY_STDLIB = re.compile(r"/lib/python\d+(?:\.\d+)?/")
# Code the app compiles or types in itself: exec/eval, `python -`, the `code` module's console,
# IPython's cells. The runtime's own `<frozen …>` modules and generated helpers are not the app's.
_APP_PSEUDO_FILES = ("<string>", "<stdin>", "<console>", "<ipython-input-")

# Where the reader is: before any traceback; among a traceback's frames; past its exception
# line, in the message and notes, where `File "` and `Traceback` lines are text; past a chained
# exception's separator, waiting for the header of the next traceback.
_START, _FRAMES, _MESSAGE, _CHAINED = range(4)


def parse_python_traceback(lines):
    """Frames of the last exception printed.

    Chained exceptions print the cause first, so each traceback that follows a chain separator
    starts over; a traceback inside an exception's message or notes (a child process's, a
    `RemoteTraceback`) is part of that exception, not a new one. An `ExceptionGroup` prints its
    own frames behind a `| ` gutter, then its sub-exceptions from the first `+-+---` separator
    on: only the group's own frames count. Lines may carry any prefix (log timestamps,
    `docker compose` gutters): the header's, or none.
    """
    frames = []
    state = _START
    prefix = ""  # what the header's line has before `Traceback`: where the exception line starts
    indent = " "  # the prefix and a space: how frame and source lines start
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
        # The first line back at the header's indent, or unprefixed, that names an exception.
        if state == _FRAMES and not raw.startswith(indent):
            start = len(prefix) if raw.startswith(prefix) else 0
            if not raw.startswith(" ", start) and _EXCEPTION_LINE.match(raw, start):
                state = _MESSAGE
                continue
        if _HEADER in raw:
            if state != _MESSAGE:
                frames, state = [], _FRAMES
                marker = raw.find(_GROUP_HEADER)
                if marker >= 0 and group_prefix is None:
                    group_prefix = raw[:marker]
                    prefix = group_prefix + "| "
                else:
                    prefix = raw[:raw.find(_HEADER)]
                indent = prefix + " "
            continue
        if state == _MESSAGE:
            if raw.rstrip().endswith(_CHAIN_SEPARATORS):
                state = _CHAINED
            continue
        match = _PY_FRAME.search(raw) if 'File "' in raw and state != _CHAINED else None
        if match:
            frames.append(match)  # made a Frame below only if among the last MAX_FRAMES
            if len(frames) > 2 * MAX_FRAMES:
                del frames[:-MAX_FRAMES]
    return Stack(PYTHON, tuple(_python_frame(match) for match in frames[-MAX_FRAMES:]))


def _python_frame(match):
    file, line, function = match.groups()
    # Positional (file, line, column, function, in_app): keywords cost a tenth of the whole parse.
    return Frame(file, line_number(line), None, (function or "").strip(), python_in_app(file))


def python_in_app(file):
    """Whether `file` is the app's own code rather than the standard library's, an installed
    package's or the runtime's."""
    if file.startswith("<"):  # no source file: code compiled at run time, or frozen in the runtime
        return file.startswith(_APP_PSEUDO_FILES)
    if "\\Lib\\" in file:
        return False
    path = file.replace("\\", "/").lower()
    if "/site-packages/" in path or "/dist-packages/" in path:
        return False
    return not _PY_STDLIB.search(path)
