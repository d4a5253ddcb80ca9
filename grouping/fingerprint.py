"""Culprit frame + report -> fingerprint. Pure: no Django imports."""

import hashlib

LINE = "line"
FUNCTION = "function"
STRATEGIES = (LINE, FUNCTION)


def compute_fingerprint(project, exception_type, culprit, strategy=LINE):
    """MD5 hex of `project:exception_type:file:line`, the spec's formula.

    The `function` strategy puts the culprit's function name where the line was, so a deploy
    that only moves code does not open new groups. No culprit frame: file and line are empty.
    """
    if culprit is None:
        file, position = "", ""
    else:
        file = culprit.file
        if strategy == FUNCTION:
            position = culprit.function
        else:
            position = "" if culprit.line is None else str(culprit.line)
    key = f"{project}:{exception_type}:{file}:{position}"
    return hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()


def overflow_fingerprint(project):
    """The one group a project's new fingerprints count into past its hourly cap; no report's
    `project:type:file:line` can produce this key."""
    return hashlib.md5(f"{project}\x00overflow".encode("utf-8"), usedforsecurity=False).hexdigest()
