"""The pipeline's second step (scrub -> symbolicate -> group -> store): minified JavaScript
frames become the original code's, through the project's uploaded source maps, before the
culprit and fingerprint are chosen. A bundle frame with no map keeps its name across deploys
with its content hash stripped."""

import json
from dataclasses import dataclass

from grouping.frames import JAVASCRIPT, Stack
from grouping.sourcemaps import MINIFIED_HEADING, strip_content_hash
from releases.lookup import project_has_maps, source_map_for

# Source lines kept around the culprit are cut: a bundled library may be one minified line.
CONTEXT_LINE_CHARACTERS = 300


@dataclass(frozen=True)
class Symbolicated:
    """`stack` is what grouping uses; `resolved` says, frame by frame, what a map resolved;
    `reported` is the stack as it arrived (its URLs say a browser sent it)."""

    stack: Stack
    reported: Stack
    resolved: tuple = ()

    @property
    def any_resolved(self):
        return any(self.resolved)

    def culprit_context(self):
        """The source lines around the culprit, from the map's sourcesContent, as JSON text."""
        culprit = self.stack.culprit
        for frame, resolved in zip(self.stack.frames, self.resolved):
            if resolved is not None and frame is culprit and resolved.context_line:
                return json.dumps({
                    "pre": [_cut(line) for line in resolved.pre_context],
                    "line": _cut(resolved.context_line),
                    "post": [_cut(line) for line in resolved.post_context],
                })
        return ""

    def traceback(self, reported):
        """The stored traceback: the original frames, then the minified ones as reported."""
        if not self.any_resolved:
            return reported
        headline = reported.split("\n", 1)[0] if reported and not reported.lstrip().startswith("at ") else "Error"
        lines = [headline]
        for frame, resolved in zip(self.stack.frames, self.resolved):
            where = f"{frame.file}:{frame.line}" + (f":{frame.column}" if frame.column else "")
            lines.append(f"    at {frame.function} ({where})" if frame.function else f"    at {where}")
        return "\n".join(lines) + f"\n\n{MINIFIED_HEADING}\n" + reported


def symbolicate(stack, project_id, release="", debug_ids=None, dry_run=False):
    """`stack` with each minified frame the map of its file resolves replaced by the original;
    a dry run leaves no trace (bundles are not marked used)."""
    if stack.language != JAVASCRIPT or not stack.frames:
        return Symbolicated(stack, stack)
    if project_id is None or not project_has_maps(project_id):
        return Symbolicated(Stack(stack.language, tuple(_without_hash(frame) for frame in stack.frames)), stack)
    debug_ids = debug_ids or {}
    frames, resolved, maps = [], [], {}
    for frame in stack.frames:
        # Frames of one report mostly share one bundle: its map is found once per report.
        location = (frame.file, debug_ids.get(frame.file, ""))
        if location not in maps:
            maps[location] = source_map_for(project_id, frame.file, release, location[1], note_use=not dry_run)
        sourcemap = maps[location] if frame.line else None
        original = sourcemap.resolve(frame) if sourcemap is not None else None
        frames.append(original.frame if original is not None else _without_hash(frame))
        resolved.append(original)
    return Symbolicated(Stack(stack.language, tuple(frames)), stack, tuple(resolved))


def _cut(line):
    return line if len(line) <= CONTEXT_LINE_CHARACTERS else line[: CONTEXT_LINE_CHARACTERS - 1] + "…"


def _without_hash(frame):
    stripped = strip_content_hash(frame.file)
    return frame if stripped == frame.file else frame._replace(file=stripped)
