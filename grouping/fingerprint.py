"""A report's stack, type and message -> the fingerprint that names its group. Pure: no Django imports."""

import hashlib
import re

from .messages import parameterise

LINE = "line"
FUNCTION = "function"
STACK = "stack"
STRATEGIES = (LINE, FUNCTION, STACK)

_VARIABLE = re.compile(r"\{\{\s*([a-z.]+)\s*\}\}")


def _md5(key):
    return hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()


def compute_fingerprint(project, exception_type, stack, strategy=LINE, message="", custom=None):
    """The group of a report: `custom` (an SDK's fingerprint) if given, else default_fingerprint."""
    default = default_fingerprint(project, exception_type, stack, strategy, message)
    if not custom:
        return default
    return custom_fingerprint(project, custom, default, exception_type, stack.culprit)


def default_fingerprint(project, exception_type, stack, strategy=LINE, message=""):
    """MD5 hex of `project:exception_type:file:line`, the spec's formula, for the culprit frame.

    `function` puts the culprit's function where the line was, so a deploy that only moves code
    keeps its groups. `stack` keys on every in-app frame's module (or file) and function, no lines:
    moved code keeps its group, and two callers of one helper are two groups. A report with no
    frame at all is keyed by its parameterised message as well (grouping.messages), so that
    "order 17 failed" and "order 18 failed" are one group and "disk full" another.
    """
    culprit = stack.culprit
    if culprit is None:
        key = f"{project}:{exception_type}::"
        template = parameterise(message)
        return _md5(f"{key}\x00{template}" if template else key)
    if strategy == STACK:
        frames = [frame for frame in stack.frames if frame.in_app] or stack.frames
        path = "\x00".join(f"{frame.module or frame.file}\x01{frame.function}" for frame in frames)
        return _md5(f"{project}:{exception_type}:\x00stack\x00{path}")
    if strategy == FUNCTION:
        position = culprit.function
    else:
        position = "" if culprit.line is None else str(culprit.line)
    return _md5(f"{project}:{exception_type}:{culprit.file}:{position}")


def custom_fingerprint(project, parts, default, exception_type="", culprit=None):
    """An SDK's `fingerprint`: its parts, with `{{ default }}` replaced by our own grouping and
    `{{ type }}` / `{{ error.type }}` and `{{ function }}` by the report's; other text is literal.
    `["{{ default }}"]` alone groups exactly as no fingerprint would."""
    values = {
        "default": default,
        "type": exception_type,
        "error.type": exception_type,
        "function": culprit.function if culprit is not None else "",
    }
    expanded = [_VARIABLE.sub(lambda match: values.get(match[1], match[0]), part) for part in parts]
    if expanded == [default]:
        return default
    return _md5(f"{project}\x00custom\x00" + "\x00".join(expanded))


def overflow_fingerprint(project):
    """The one group a project's new fingerprints count into past its hourly cap; no report's
    `project:type:file:line` can produce this key."""
    return _md5(f"{project}\x00overflow")
