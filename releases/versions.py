"""Which of two releases is older: by semantic version where both parse as one, else by when
each was first seen. Pure: no Django imports."""

import re

# `1.2.3`, `v1.2`, `shop@1.2.3-rc.1+build.5` (Sentry's `package@version+build`).
_SEMVER = re.compile(
    r"(?:[^@\s]+@)?v?(?P<major>[0-9]{1,9})\.(?P<minor>[0-9]{1,9})(?:\.(?P<patch>[0-9]{1,9}))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]{1,100}))?(?:\+[0-9A-Za-z.-]{0,100})?"
)


def semver_key(version):
    """A sort key for a semantic version, or None if `version` is not one. A pre-release sorts
    before its release; numeric pre-release parts before text ones, as semver.org says."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        return None
    numbers = (int(match["major"]), int(match["minor"]), int(match["patch"] or 0))
    if match["pre"] is None:
        return (*numbers, 1, ())
    parts = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in match["pre"].split("."))
    return (*numbers, 0, parts)


def is_older(version, than, first_seen=None):
    """Whether release `version` is older than release `than`.

    Semantic versions compare as such; otherwise by `first_seen(version)`, a callable giving when
    a release was first seen (None for one never seen, which counts as newer than any seen).
    """
    if version == than:
        return False
    mine, theirs = semver_key(version), semver_key(than)
    if mine is not None and theirs is not None:
        return mine < theirs
    seen, seen_than = (first_seen(version), first_seen(than)) if first_seen else (None, None)
    if seen_than is None:
        return seen is not None
    return seen is not None and seen < seen_than
