"""Releases: the versions a project's reports name, and the ones its tools announce."""

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Project

from .versions import semver_key

# As long as sentry-cli lets a version be.
RELEASE_CHARACTERS = 250


class ReleaseQuerySet(models.QuerySet):
    def newest(self):
        """The newest of these releases: the highest semantic version if every version is one,
        else the one seen (or announced) last; None if there are none."""
        releases = list(self.annotate(seen=Coalesce("first_seen", "date_created")).only("version", "first_seen", "date_created"))
        if not releases:
            return None
        if all(semver_key(release.version) is not None for release in releases):
            return max(releases, key=lambda release: semver_key(release.version))
        return max(releases, key=lambda release: (release.seen, release.pk))


class Release(models.Model):
    """A version string of one project, exactly as the client sent it (`"undefined"` included:
    the bundler plugins send that when none is configured)."""

    objects = ReleaseQuerySet.as_manager()

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=RELEASE_CHARACTERS)
    date_created = models.DateTimeField(default=timezone.now)
    # None until a report names it: a release announced by sentry-cli before its deploy.
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # When a tool said it was released (`sentry-cli releases finalize`).
    date_released = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "releases"
        ordering = ["-date_created", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="release_once_per_project")]

    def __str__(self):
        return self.version


class UploadChunk(models.Model):
    """One chunk of a file sentry-cli is uploading, named by its SHA-1; assembled into a bundle,
    then removed with the rest of a day's leftovers (maintenance)."""

    checksum = models.CharField(max_length=40, primary_key=True)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "upload_chunks"


class ArtifactBundle(models.Model):
    """A sentry-cli artifact bundle of one project: minified files and their source maps, by
    debug ID. The same bundle uploaded twice is stored once (its checksum)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artifact_bundles")
    checksum = models.CharField(max_length=40)
    release = models.CharField(max_length=RELEASE_CHARACTERS, blank=True, default="")
    dist = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField()
    file_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # When a report's frames were last resolved with it (at most daily): retention keeps bundles in use.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "artifact_bundles"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "checksum"], name="bundle_once_per_project")]

    def __str__(self):
        return f"{self.project.name} {self.release or '(no release)'} ({self.file_count} files)"


class BundleFile(models.Model):
    """A minified file or a source map from a bundle: found by debug ID, or by its `~/…` URL
    for reports that carry no debug IDs."""

    MINIFIED_SOURCE = "minified_source"
    SOURCE_MAP = "source_map"

    bundle = models.ForeignKey(ArtifactBundle, on_delete=models.CASCADE, related_name="files")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    debug_id = models.CharField(max_length=36, blank=True, default="")
    file_type = models.CharField(max_length=32)
    # The URL as uploaded (`~/static/js/main.js`), and its last path segment for the lookup.
    url = models.TextField(blank=True, default="")
    basename = models.CharField(max_length=255, blank=True, default="")
    data = models.BinaryField()

    class Meta:
        db_table = "bundle_files"
        indexes = [
            models.Index(fields=["project", "debug_id", "file_type"], name="bundle_files_debug_id_idx"),
            models.Index(fields=["project", "basename", "file_type"], name="bundle_files_basename_idx"),
        ]
