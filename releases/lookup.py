"""Which uploaded source map belongs to a minified frame, and the parsed maps, cached.

A report resolves each minified frame by the debug ID its SDK sent (`debug_meta.images`), else by
the frame's location: an uploaded file's `~/…` URL without the `~` must end the frame's URL path
or file path. Per process, three bounded caches keep the database out of the way: whether a
project has any bundle at all, which file a location names, and the parsed maps themselves.
"""

import threading
from collections import OrderedDict
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from grouping.sourcemaps import load_sourcemap
from tracker.expiring import ExpiringCache

from .models import RELEASE_CHARACTERS, ArtifactBundle, BundleFile

LOOKUP_SECONDS = 60
LOOKUPS_KEPT = 10_000
LAST_USED_RESOLUTION = timedelta(days=1)
# Longer locations are no script URL anyone serves: not looked up (nor kept as cache keys).
MAX_LOCATION_CHARACTERS = 2048


class _MapCache:
    """Parsed source maps by bundle file, least recently used out first, at most
    SOURCEMAP_CACHE_BYTES of them (by SourceMap.size); a map larger than that is kept alone, so
    a big bundle is parsed once, not for every report. A budget of 0 keeps none."""

    def __init__(self):
        self.lock = threading.Lock()
        self.maps = OrderedDict()
        self.bytes = 0

    def get(self, key, load):
        with self.lock:
            if key in self.maps:
                self.maps.move_to_end(key)
                return self.maps[key]
        parsed = load()
        size = parsed.size if parsed is not None else 0
        with self.lock:
            if key not in self.maps and settings.SOURCEMAP_CACHE_BYTES > 0:
                self.maps[key] = parsed
                self.bytes += size
                while self.bytes > settings.SOURCEMAP_CACHE_BYTES and len(self.maps) > 1:
                    _, dropped = self.maps.popitem(last=False)
                    self.bytes -= dropped.size if dropped is not None else 0
        return parsed

    def clear(self):
        with self.lock:
            self.maps.clear()
            self.bytes = 0


_has_bundles = ExpiringCache(LOOKUP_SECONDS, LOOKUPS_KEPT, remember_none=True)
_locations = ExpiringCache(LOOKUP_SECONDS, LOOKUPS_KEPT, remember_none=True)
_parsed = _MapCache()
_used_today = ExpiringCache(24 * 3600, LOOKUPS_KEPT, remember_none=True)


def forget_uploads():
    """For this process, at once: after a bundle was stored or removed here."""
    _has_bundles.clear()
    _locations.clear()
    _parsed.clear()
    _used_today.clear()


def project_has_maps(project_id):
    return _has_bundles.get(project_id, lambda: BundleFile.objects.filter(project_id=project_id).exists())


def source_map_for(project_id, location, release="", debug_id="", note_use=True):
    """The parsed SourceMap for a minified file at `location` (a URL or a path), or None.
    `note_use` marks its bundle used today (retention keeps bundles in use); a dry run does not."""
    if len(location) > MAX_LOCATION_CHARACTERS or len(release) > RELEASE_CHARACTERS:
        return None
    key = (project_id, location, release, debug_id)
    pair = _locations.get(key, lambda: _find_pair(project_id, location, release, debug_id))
    if pair is None:
        return None
    minified_id, map_id, bundle_id = pair
    if note_use:
        _note_use(bundle_id)
    return _parsed.get(map_id, lambda: _load(minified_id, map_id))


def _find_pair(project_id, location, release, debug_id):
    """(minified file id, source map id, bundle id) for the location, or None: by debug ID
    first, then, for a debug ID no upload has (a bundle uploaded without it), by URL."""
    if debug_id:
        found = _pair(BundleFile.objects.filter(project_id=project_id, debug_id=debug_id.lower()), release)
        if found is not None:
            return found
    path = _path_of(location)
    basename = path.rsplit("/", 1)[-1]
    if not basename:
        return None
    candidates = BundleFile.objects.filter(
        project_id=project_id, basename=basename, file_type=BundleFile.MINIFIED_SOURCE
    ).values_list("id", "url", "bundle_id", "debug_id", "bundle__release", "bundle__created_at")
    matching = [row for row in candidates if path.endswith(row[1].removeprefix("~"))]
    if not matching:
        return None
    # The report's own release first, then the newest upload.
    best = max(matching, key=lambda row: (bool(release) and row[4] == release, row[5]))
    minified_id, url, bundle_id, found_debug_id, _, _ = best
    maps = BundleFile.objects.filter(bundle_id=bundle_id, file_type=BundleFile.SOURCE_MAP)
    maps = maps.filter(debug_id=found_debug_id) if found_debug_id else maps.filter(Q(url=f"{url}.map") | Q(basename=f"{basename}.map"))
    map_id = maps.values_list("id", flat=True).first()
    return None if map_id is None else (minified_id, map_id, bundle_id)


def _pair(files, release):
    rows = list(files.values_list("id", "file_type", "bundle_id", "bundle__release", "bundle__created_at"))
    bundles = {}
    for file_id, file_type, bundle_id, bundle_release, created in rows:
        entry = bundles.setdefault(bundle_id, {"release": bundle_release, "created": created})
        entry[file_type] = file_id
    usable = [(bundle_id, e) for bundle_id, e in bundles.items() if BundleFile.SOURCE_MAP in e]
    if not usable:
        return None
    bundle_id, entry = max(usable, key=lambda item: (bool(release) and item[1]["release"] == release, item[1]["created"]))
    return entry.get(BundleFile.MINIFIED_SOURCE), entry[BundleFile.SOURCE_MAP], bundle_id


def _path_of(location):
    """The path of a URL (`https://shop.example.com/static/app.js?v=2` -> `/static/app.js`) or a file."""
    if "://" in location:
        try:
            return urlsplit(location).path
        except ValueError:
            return ""
    return location.split("?", 1)[0]


def _load(minified_id, map_id):
    minified = BundleFile.objects.filter(pk=minified_id).values_list("data", flat=True).first() if minified_id else b""
    sourcemap = BundleFile.objects.filter(pk=map_id).values_list("data", flat=True).first()
    if sourcemap is None:
        return None
    return load_sourcemap(bytes(minified or b""), bytes(sourcemap))


def _note_use(bundle_id):
    """Mark the bundle used today (at most once a day per process), for retention."""

    def mark():
        now = timezone.now()
        ArtifactBundle.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), pk=bundle_id
        ).update(last_used_at=now)
        return True

    _used_today.get(bundle_id, mark)
