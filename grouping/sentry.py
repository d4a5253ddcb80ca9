"""A Sentry event's frames -> our frames, grouped as the SDK sent them. Pure: no Django imports."""

from .frames import JAVASCRIPT, MAX_FRAMES, MAX_LINE_DIGITS, PYTHON, Frame, Stack
from .javascript import javascript_in_app, without_query
from .python import python_in_app

JAVASCRIPT_PLATFORMS = ("javascript", "node")
_LARGEST_LINE = 10**MAX_LINE_DIGITS - 1


def event_frames(exception):
    """The frames of a Sentry exception that name a file and a line, oldest first as Sentry
    orders them, as plain strings and numbers; at most MAX_FRAMES, the innermost kept."""
    stacktrace = exception.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    usable = []
    for frame in frames if isinstance(frames, list) else ():
        if not isinstance(frame, dict):
            continue
        path = _text(frame.get("abs_path")) or _text(frame.get("filename"))
        line = _number(frame.get("lineno"))
        if not path or line is None:
            continue
        usable.append(
            {
                "path": path.replace("\n", " "),
                "line": line,
                "column": _number(frame.get("colno")),
                "function": _text(frame.get("function")).replace("\n", " "),
                "module": _text(frame.get("module")),
                "in_app": frame.get("in_app") if isinstance(frame.get("in_app"), bool) else None,
                "code": _text(frame.get("context_line")).strip(),
            }
        )
    return usable[-MAX_FRAMES:]


def event_stack(platform, exception):
    """The frames of `exception` in the order our parsers read them from text (V8 prints the
    innermost first, Python last). The SDK's `in_app` wins where it set one; elsewhere the rules
    that read the same frame from text decide, so both ways in agree."""
    javascript = platform in JAVASCRIPT_PLATFORMS
    frames = []
    for frame in event_frames(exception):
        path = without_query(frame["path"]) if javascript else frame["path"]
        in_app = frame["in_app"]
        if in_app is None:
            in_app = javascript_in_app(path, frame["line"]) if javascript else python_in_app(path)
        frames.append(Frame(path, frame["line"], frame["column"], frame["function"], in_app, frame["module"]))
    return Stack(JAVASCRIPT, tuple(reversed(frames))) if javascript else Stack(PYTHON, tuple(frames))


def _number(value):
    """A line or column number: a positive int the database can hold, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _LARGEST_LINE:
        return value
    return None


def _text(value):
    return value.replace("\x00", "") if isinstance(value, str) else ""
