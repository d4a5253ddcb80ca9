"""tracker/logformat.py: what a client sent cannot start a log line of its own."""

import logging
import sys

from tracker.logformat import SafeFormatter, escape_controls


def test_control_characters_are_escaped_visibly():
    assert escape_controls("a\nb\r\x1b[31m\u2028\x85\tc") == "a\\nb\\r\\x1b[31m\\u2028\\x85\\tc"
    assert escape_controls("plain text, ünïcode") == "plain text, ünïcode"


def test_a_logged_traceback_keeps_its_lines_indented():
    formatter = SafeFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("bad\nINFO forged line")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("p\nq",), sys.exc_info())

    lines = formatter.format(record).splitlines()

    assert lines[0] == "ERROR failed for p\\nq"
    assert all(line.startswith("    ") for line in lines[1:])
    assert not any(line.startswith("INFO") for line in lines)
