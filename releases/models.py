"""Releases: the versions a project's reports name, and the ones its tools announce."""

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Project

from .versions import semver_key


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
    version = models.CharField(max_length=250)
    date_created = models.DateTimeField(default=timezone.now)
    # None until a report names it: a release announced by sentry-cli before its deploy.
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "releases"
        ordering = ["-date_created", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="release_once_per_project")]

    def __str__(self):
        return self.version
