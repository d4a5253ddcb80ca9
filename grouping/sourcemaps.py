"""Minified JavaScript frames -> the original code's frames, before grouping. Pure: no Django
imports.

A bundle puts an app on one line: its frames name the bundle, line 1 and function names the
minifier chose, all of which a deploy changes, so groups follow neither the code that failed nor
survive a release. With the bundle's source map, each frame becomes the original file, line and
function the map names, as Sentry does with the same library (symbolic's SourceMapCache), before
any grouping. Without a map, `strip_content_hash` keeps at least a bundle's file name across
deploys.
"""

import re
from typing import NamedTuple

from symbolic import SymbolicError
from symbolic.sourcemapcache import SourceMapCache

from .frames import Frame

# Where a stored traceback's original frames end and the minified ones, as reported, begin.
MINIFIED_HEADING = "Minified, as reported:"
# symbolic takes lines and columns as C uint32; a larger one would raise OverflowError.
_LARGEST_POSITION = 2**32 - 1
# symbolic's function name where the minified source does not say.
_UNKNOWN_FUNCTION = "<unknown>"
_BUNDLER_PREFIX = re.compile(r"webpack://[^/]*/")
_RELATIVE_STEPS = re.compile(r"(?:\.\.?/)+")
_BUNDLER_RUNTIME = ("webpack/runtime/", "webpack/bootstrap")
_BUNDLE_EXTENSIONS = ("js", "mjs", "cjs")
# A hex content hash (webpack, Create React App, Parcel, Next.js, Vite before 5) anywhere in the
# name after a `.` or `-`, as long as a `.` follows: `main.3f2a1b9c.js`, `1.4f2e9a1b.chunk.js`.
_HEX_HASH = re.compile(r"[.-]([0-9a-f]{8,})(?=\.)")
# The 8-character hash Rollup 4 (Vite 5) and esbuild put last, after a `-`: `index-BcD3f_9x.js`.
_TAIL_HASH = re.compile(r"[A-Za-z0-9_-]{8}")
_TAIL_HASH_LENGTH = 8


class ResolvedFrame(NamedTuple):
    """A minified frame and the original code the map says it ran: `frame` is what grouping
    and display use; the context lines come from the map's sourcesContent (empty without)."""

    frame: Frame
    minified: Frame
    pre_context: tuple[str, ...]
    context_line: str
    post_context: tuple[str, ...]


class SourceMap:
    """One bundle's source map, parsed into symbolic's lookup cache.

    The cache holds what lookups need (tokens, names, sourcesContent, the function scopes
    symbolic found in the minified source), so neither file's bytes are kept. symbolic writes
    it to an unlinked temporary file (in TMPDIR) and maps it into memory: pages are read in as
    lookups touch them, and no file descriptor stays open.

    `size` estimates its bytes for a bounded cache: twice the two files' lengths together; the
    cache measured 1.4 to 2 times their sum on esbuild bundles of 160 KB to 8 MB.
    """

    def __init__(self, cache, size):
        self._cache = cache
        self.size = size

    def resolve(self, frame, context_lines=3):
        """The original of `frame` (1-based line and column, as V8 and the Sentry SDKs give
        them); None if the frame has no line or column, or the map no token there (a line
        past the end, a column before the line's first token, or a token naming no source).

        A column past a line's last token resolves to that token: symbolic (and so Sentry) takes
        the nearest token at or before the column on the frame's line.
        """
        if not (_is_position(frame.line) and _is_position(frame.column)):
            return None
        token = self._cache.lookup(frame.line, frame.column, context_lines)
        if token is None or token.src is None:
            return None
        file = display_path(token.src)
        function = token.function_name
        if function is None or function == _UNKNOWN_FUNCTION:
            function = frame.function
        original = Frame(file, token.line, token.col, function, _original_in_app(file), "")
        return ResolvedFrame(
            original,
            frame,
            tuple(_context_text(text) for text in token.pre_context),
            _context_text(token.context_line or ""),
            # After a file's final newline symbolic gives one more line, empty and without a
            # newline of its own: it is not a line of the source.
            tuple(_context_text(text) for text in token.post_context if text),
        )


def load_sourcemap(minified, sourcemap):
    """The source map of the minified file, from both files' bytes; None if symbolic cannot
    read the map (bad JSON, a token naming a source or name the map lacks, an overflowing VLQ,
    an index map pointing to other files).

    The minified source lets symbolic name the original function of each frame; without it
    (b"") frames keep their minified function names. Either may be bytes, bytearray or
    memoryview (what Django's BinaryField gives on PostgreSQL); symbolic itself takes bytes.
    """
    try:
        cache = SourceMapCache.from_bytes(bytes(minified), bytes(sourcemap))
    except SymbolicError:
        return None
    return SourceMap(cache, 2 * (len(minified) + len(sourcemap)))


def display_path(source):
    """A map's source path as grouping and display use it: a leading `webpack://<name>/`
    (`webpack:///` when the name is empty) and then any leading run of `./` and `../` dropped,
    nothing else changed. `../src/util.js` and `webpack:///./src/util.js` -> `src/util.js`.

    Bundlers write sources relative to the map's own location, so the steps say where the map
    was written, not which file it is; dropping them keeps a file's name the same whichever
    folder a build wrote to.
    """
    bundler_prefix = _BUNDLER_PREFIX.match(source)
    if bundler_prefix:
        source = source[bundler_prefix.end() :]
    relative_steps = _RELATIVE_STEPS.match(source)
    return source[relative_steps.end() :] if relative_steps else source


def _original_in_app(path):
    """Whether an original source is the app's own: not a library's (under node_modules/) and
    not webpack's runtime."""
    return "node_modules" not in path.replace("\\", "/").split("/") and not path.startswith(_BUNDLER_RUNTIME)


def _is_position(number):
    return number is not None and 0 < number <= _LARGEST_POSITION


def _context_text(line):
    return line.rstrip("\r\n")


def strip_content_hash(file):
    """`file` without the content hash a bundler put in its name, so a frame in a bundle with
    no map keeps its name, and its group, across deploys; the directory is kept. Only names
    ending in .js, .mjs or .cjs change, and only the name after the last `/` or `\\`.

    Two kinds of hash are dropped with the separator before them:
    - hex: a segment of 8 or more [0-9a-f], holding a digit and a letter, after a `.` or `-`
      and before a `.` (`main.3f2a1b9c.js` -> `main.js`, `1.4f2e9a1b.chunk.js` -> `1.chunk.js`,
      `framework-2c79e2a64abdb08b.js` -> `framework.js`). The letter keeps dates and numbers
      (`report-20240101.js`), the digit words (`vendor-deadbeef.js`).
    - Rollup 4 (Vite 5) and esbuild: the last 8 characters before the extension, after a `-`,
      all [A-Za-z0-9_-], holding an upper-case letter after their first character, or an
      upper-case letter and a digit (`index-BcD3f_9x.js`, `chunk-5AB3C2DE.js` -> `index.js`,
      `chunk.js`). That keeps lower-case and Capitalised words and version-like names
      (`chacha20-poly1305.js`, `web.dom-collections.for-each.js`, `menu-Dropdown.js`), at the
      price of missing the 1.7% of Rollup's hashes with no upper-case letter past the first
      character and no digit beside an upper-case one; esbuild's (upper-case and 2-7) are all
      caught.
    Only one rule applies to a name: the hex one when the other does not.
    """
    name_start = max(file.rfind("/"), file.rfind("\\")) + 1
    directory, name = file[:name_start], file[name_start:]
    stem, dot, extension = name.rpartition(".")
    if not dot or extension not in _BUNDLE_EXTENSIONS:
        return file
    hash_start = len(stem) - _TAIL_HASH_LENGTH
    tail = stem[hash_start:]
    if hash_start > 1 and stem[hash_start - 1] == "-" and _TAIL_HASH.fullmatch(tail) and _looks_generated(tail):
        return f"{directory}{stem[: hash_start - 1]}.{extension}"
    return directory + _HEX_HASH.sub(_drop_hex_hash, name)


def _looks_generated(tail):
    """Whether 8 characters are a hash rather than a word (see strip_content_hash)."""
    upper_after_first = any(character.isupper() for character in tail[1:])
    return upper_after_first or (tail[0].isupper() and any(character.isdigit() for character in tail))


def _drop_hex_hash(match):
    segment = match[1]
    return "" if not segment.isdigit() and not segment.isalpha() else match[0]
