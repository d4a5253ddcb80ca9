"""sentry-cli's chunked upload: chunks stored by SHA-1, then assembled into an artifact bundle
per project. The database holds both, so every instance behind a load balancer sees them."""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Length
from django.utils import timezone

from projects.models import Project

from .artifacts import BadBundle, read_bundle
from .lookup import forget_uploads
from .models import RELEASE_CHARACTERS, ArtifactBundle, BundleFile, UploadChunk

# Assembly states as sentry-cli reads them.
NOT_FOUND, OK, ERROR = "not_found", "ok", "error"


class BadChunk(ValueError):
    """A chunk that is not what its name says, or too large."""


def store_chunks(chunks):
    """Store (name, data) chunks; each name must be its data's SHA-1. Storing one twice is harmless."""
    for name, data in chunks:
        if len(data) > settings.CHUNK_BYTES:
            raise BadChunk(f"chunk {name} is {len(data)} bytes; chunks are at most {settings.CHUNK_BYTES}.")
        if hashlib.sha1(data, usedforsecurity=False).hexdigest() != name.lower():
            raise BadChunk(f"chunk {name!r} is not named by its SHA-1.")
    for name, data in chunks:
        try:
            with transaction.atomic():
                UploadChunk.objects.get_or_create(checksum=name.lower(), defaults={"data": data})
        except IntegrityError:
            pass  # the same chunk, stored by a concurrent request


@dataclass
class Assembly:
    state: str
    missing_chunks: list = field(default_factory=list)
    detail: str | None = None


def max_chunks():
    """Chunks one bundle may have: as many as MAX_BUNDLE_BYTES takes."""
    return -(-settings.MAX_BUNDLE_BYTES // settings.CHUNK_BYTES)


def find_projects(references):
    """The projects named by slug, name or number, as sentry-cli sends them; unknown ones listed."""
    found, unknown = [], []
    for reference in references:
        text = str(reference)[:100]
        query = Q(slug=text) | Q(name=text)
        if text.isascii() and text.isdigit() and len(text) <= 18:
            query |= Q(pk=int(text))
        project = Project.objects.filter(query).first()
        (found if project is not None else unknown).append(project or text)
    return found, unknown


def assemble(checksum, chunks, project_references, release="", dist=""):
    """Assemble the bundle `checksum` from `chunks` for each project, or say which chunks are
    missing first: sentry-cli uploads exactly those, then asks again."""
    checksum = checksum.lower()
    chunks = [chunk.lower() for chunk in chunks]
    projects, unknown = find_projects(project_references)
    if unknown or not projects:
        return Assembly(ERROR, detail=f"Unknown project(s): {', '.join(unknown) or '(none given)'}.")
    if len(chunks) > max_chunks():
        return Assembly(ERROR, detail=f"A bundle is at most {max_chunks()} chunks ({settings.MAX_BUNDLE_BYTES} bytes).")
    sizes = dict(UploadChunk.objects.filter(checksum__in=chunks).annotate(size=Length("data")).values_list("checksum", "size"))
    missing = [chunk for chunk in dict.fromkeys(chunks) if chunk not in sizes]
    if missing:
        return Assembly(NOT_FOUND, missing)
    todo = [p for p in projects if not ArtifactBundle.objects.filter(project=p, checksum=checksum).exists()]
    if not todo:
        return Assembly(OK)
    size = sum(sizes[chunk] for chunk in chunks)
    if size > settings.MAX_BUNDLE_BYTES:
        return Assembly(ERROR, detail=f"The bundle is {size} bytes; at most {settings.MAX_BUNDLE_BYTES} are kept.")
    data = b"".join(_chunk_data(chunks))
    if hashlib.sha1(data, usedforsecurity=False).hexdigest() != checksum:
        return Assembly(ERROR, detail="The chunks do not add up to the bundle's checksum.")
    try:
        entries = read_bundle(data)
    except BadBundle as exc:
        return Assembly(ERROR, detail=f"Not a readable bundle: {exc}.")
    for project in todo:
        problem = _store_bundle(project, checksum, entries, len(data), release, dist)
        if problem:
            return Assembly(ERROR, detail=problem)
    forget_uploads()
    return Assembly(OK)


def _chunk_data(chunks):
    by_name = {}
    for chunk in UploadChunk.objects.filter(checksum__in=set(chunks)).iterator():
        by_name[chunk.checksum] = bytes(chunk.data)
    return [by_name[chunk] for chunk in chunks]


def _store_bundle(project, checksum, entries, size, release, dist):
    """Store one project's copy of the bundle; a message if it would pass the project's cap."""
    used = ArtifactBundle.objects.filter(project=project).aggregate(total=Sum("size"))["total"] or 0
    if used + size > settings.MAX_PROJECT_BUNDLE_BYTES:
        return (
            f"Project {project.name!r} keeps at most {settings.MAX_PROJECT_BUNDLE_BYTES} bytes of bundles "
            f"({used} used); remove old ones in the admin."
        )
    try:
        with transaction.atomic():
            bundle = ArtifactBundle.objects.create(
                project=project, checksum=checksum, release=release[:RELEASE_CHARACTERS], dist=dist[:64], size=size,
                file_count=len(entries),
            )
            BundleFile.objects.bulk_create(
                BundleFile(
                    bundle=bundle, project=project, debug_id=entry.debug_id, file_type=entry.file_type,
                    url=entry.url, basename=entry.basename, data=entry.data,
                )
                for entry in entries
            )
    except IntegrityError:
        pass  # the same bundle, assembled by a concurrent request
    return None


# Chunks are assembled within seconds of their upload; any older are leftovers of an upload
# that never finished.
CHUNKS_KEPT = timedelta(days=1)


def purge_unused_bundles(now=None):
    """Remove bundles no report has used for a project's retention days (RETENTION_DAYS unless
    the project sets its own) and chunks left by unfinished uploads; returns the bundles removed."""
    now = now or timezone.now()
    removed = 0
    for project in Project.objects.filter(artifact_bundles__isnull=False).distinct():
        cutoff = now - timedelta(days=project.days_kept)
        stale = ArtifactBundle.objects.filter(project=project).filter(
            Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff)
        )
        removed += stale.delete()[1].get(ArtifactBundle._meta.label, 0)
    UploadChunk.objects.filter(created_at__lt=now - CHUNKS_KEPT).delete()
    return removed
