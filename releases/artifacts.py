"""An artifact bundle's files, as sentry-cli (and the bundler plugins' `sentry` toolkit) pack
them: a zip (behind symbolic's 8-byte `SYSB` header, which zipfile skips) whose manifest.json
names each entry's type, `~/…` URL and debug ID. Pure: no Django imports."""

import io
import json
import zipfile
import zlib
from dataclasses import dataclass

# Inflated, a bundle's files may not exceed this many bytes together (a zip bomb stops here).
MAX_INFLATED_BYTES = 256 * 1024 * 1024
# What zipfile raises for an archive it cannot read: corrupt, truncated, encrypted (RuntimeError),
# an unsupported compression (NotImplementedError), a broken deflate stream (zlib.error).
_UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error, OSError)
KEPT_TYPES = ("minified_source", "source_map")


class BadBundle(ValueError):
    """Not a bundle this service can read; the message says why."""


@dataclass(frozen=True)
class BundleEntry:
    file_type: str
    url: str
    debug_id: str
    data: bytes

    @property
    def basename(self):
        return self.url.rstrip("/").rsplit("/", 1)[-1][:255]


def read_bundle(data, max_inflated=MAX_INFLATED_BYTES):
    """The minified sources and source maps in a bundle, with their URLs and debug IDs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(_read(archive, "manifest.json", max_inflated))
    except _UNREADABLE as exc:
        raise BadBundle(f"not an artifact bundle with a manifest.json: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise BadBundle("manifest.json has no `files` object")
    entries, budget = [], max_inflated
    for name, described in files.items():
        if not isinstance(described, dict) or described.get("type") not in KEPT_TYPES:
            continue
        headers = described.get("headers") if isinstance(described.get("headers"), dict) else {}
        # The toolkit writes `Sourcemap`, sentry-cli `sourcemap`: header names are case-blind.
        headers = {str(key).lower(): value for key, value in headers.items()}
        debug_id = headers.get("debug-id") if isinstance(headers.get("debug-id"), str) else ""
        url = described.get("url") if isinstance(described.get("url"), str) else ""
        try:
            content = _read(archive, name, budget)
        except _UNREADABLE as exc:
            raise BadBundle(f"entry {name!r}: {exc}") from None
        budget -= len(content)
        entries.append(BundleEntry(described["type"], url, debug_id.lower()[:36], content))
    return entries


def _read(archive, name, limit):
    """An entry's bytes, refusing one that inflates past `limit` (whatever its header claims)."""
    with archive.open(name) as entry:
        content = entry.read(limit + 1)
    if len(content) > limit:
        raise ValueError(f"inflates past {limit} bytes")
    return content
