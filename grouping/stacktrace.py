"""Stack-trace text -> frames: whichever runtime's format the text is in. Pure: no Django imports."""

from .frames import JAVASCRIPT, MAX_FRAMES, PYTHON, UNKNOWN, Frame, Stack
from .javascript import parse_javascript_stack
from .python import parse_python_traceback

__all__ = ["JAVASCRIPT", "MAX_FRAMES", "PYTHON", "UNKNOWN", "Frame", "Stack", "parse_stack"]


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
