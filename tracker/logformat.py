"""The log format, safe against forged lines: control characters a client sent are escaped.

A report's project or a request's path can hold a newline or an ANSI escape; written raw, it
would start a line of its own that looks like a real one. Every message is escaped here, at
the one formatter, so no call site can forget. A traceback keeps its line breaks, and each of
its lines is indented, so none can pass for a log line either.
"""

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match):
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text):
    return _CONTROL.sub(_escape, text)


class SafeFormatter(logging.Formatter):
    def formatMessage(self, record):
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, exc_info):
        return "\n".join("    " + escape_controls(line) for line in super().formatException(exc_info).splitlines())
