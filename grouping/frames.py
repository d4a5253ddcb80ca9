"""A stack as frames, whatever runtime printed it, and the frame that names the bug. Pure: no
Django imports."""

from dataclasses import dataclass
from typing import NamedTuple

PYTHON = "python"
JAVASCRIPT = "javascript"
UNKNOWN = "unknown"

# Enough for any real stack (V8 keeps 10, Sentry 250); a recursion's thousands add nothing.
MAX_FRAMES = 250
# Line and column numbers have at most nine digits; longer ones are not real, and would
# overflow the database's integer column.
MAX_LINE_DIGITS = 9


class Frame(NamedTuple):
    """One call: where (file, line, column), what (function, and module where the runtime or
    SDK names one) and whether it is the app's own code rather than a library's or the runtime's."""

    file: str
    line: int | None
    column: int | None = None
    function: str = ""
    in_app: bool = True
    module: str = ""


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


def line_number(text):
    """`text` as a line or column number if it is one: one to MAX_LINE_DIGITS ASCII digits."""
    if len(text) > MAX_LINE_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
