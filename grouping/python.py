"""Python tracebacks as CPython prints them -> frames. Pure: no Django imports.

Line by line with string methods and anchored patterns: linear in the input, never raising.
"""

import re

from .frames import MAX_FRAMES, PYTHON, Frame, Stack, line_number

_PY_FRAME = re.compile(r'File "(?P<file>[^"\n]*)", line (?P<line>[0-9]+)(?:, in (?P<function>.*))?')
_PY_STDLIB = re.compile(r"/lib/python\d+(?:\.\d+)?/")


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
        line=line_number(match["line"]),
        function=(match["function"] or "").strip(),
        in_app=python_in_app(file),
    )


def python_in_app(file):
    if file.startswith("<"):  # <frozen importlib._bootstrap>, <string>, <stdin>: no source file
        return False
    if "\\Lib\\" in file:
        return False
    path = file.replace("\\", "/").lower()
    if "/site-packages/" in path or "/dist-packages/" in path:
        return False
    return not _PY_STDLIB.search(path)
