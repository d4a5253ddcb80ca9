"""The Sentry API routes sentry-cli and the bundler plugins call (`/api/0/…`): releases, and the
chunked upload of artifact bundles. One installation is one organisation: any organisation slug
is accepted. Each view parses, calls one function, and answers what the client reads."""

import zlib

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.auth import BearerTokenAuthentication

from . import uploads
from .models import RELEASE_CHARACTERS, Release
from .recording import announce_release

# What sentry-cli 2.x needs in `accept` to use debug-ID bundles (3.x and the toolkit ignore it).
ACCEPT = ["release_files", "artifact_bundles", "artifact_bundles_v2", "sources"]


class ToolsOnly(BasePermission):
    """API tokens and API_KEY; a project's DSN key never reaches these routes."""

    def has_permission(self, request, view):
        return request.user is not None and (request.user.is_master or request.user.token_id is not None)


class ToolView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [ToolsOnly]


class ApiRootView(ToolView):
    """`sentry-cli info` and `login`: who the token is (a user id would have to be a string)."""

    def get(self, request):
        return Response({"version": "0", "auth": {"scopes": ["org:ci", "project:releases"]}, "user": None})


class OrganizationView(ToolView):
    """The toolkit CLI asks where the organisation lives before it uploads."""

    def get(self, request, org):
        base = settings.PUBLIC_URL.rstrip("/")
        return Response({
            "id": "1", "slug": org, "name": org, "links": {"organizationUrl": base, "regionUrl": base},
        })


# --- releases ------------------------------------------------------------------------------


class NewReleaseSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=RELEASE_CHARACTERS)
    projects = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    dateReleased = serializers.DateTimeField(required=False, allow_null=True)


class ReleaseChangeSerializer(serializers.Serializer):
    projects = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    dateReleased = serializers.DateTimeField(required=False, allow_null=True)


def release_info(version, releases):
    """The ReleaseInfo sentry-cli parses: `version` and `dateCreated` are required."""
    releases = list(releases)
    created = min((r.date_created for r in releases), default=timezone.now())
    released = max((r.date_released for r in releases if r.date_released), default=None)
    last_seen = max((r.last_seen for r in releases if r.last_seen), default=None)
    return {
        "version": version,
        "shortVersion": version,
        "dateCreated": created,
        "dateReleased": released,
        "lastEvent": last_seen,
        "newGroups": 0,
        "projects": [{"slug": r.project.slug, "name": r.project.name} for r in releases],
    }


def _projects_or_400(references):
    projects, unknown = uploads.find_projects(references)
    if unknown:
        raise ParseError(f"Unknown project(s): {', '.join(map(str, unknown))}.")
    return projects


class OrganizationReleasesView(ToolView):
    """POST: `sentry-cli releases new` (3.x, and 2.x for several projects), the plugins."""

    def post(self, request, org, project=None):
        body = NewReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        references = [project] if project is not None else body.validated_data["projects"]
        projects = _projects_or_400(references)
        version = body.validated_data["version"]
        releases = announce_release(version, projects, body.validated_data.get("dateReleased"))
        return Response(release_info(version, releases), status=status.HTTP_201_CREATED)

    def get(self, request, org, project=None):
        releases = Release.objects.select_related("project")
        if project is not None:
            releases = releases.filter(project__in=_projects_or_400([project]))
        versions = {}
        for release in releases.order_by("-date_created")[:100]:
            versions.setdefault(release.version, []).append(release)
        return Response([release_info(version, found) for version, found in versions.items()])


class ReleaseView(ToolView):
    """GET `releases info`; PUT `releases finalize` and `set-commits` (commits are not kept)."""

    def _releases(self, version, project):
        if len(version) > RELEASE_CHARACTERS:
            raise Http404(f"Release versions are at most {RELEASE_CHARACTERS} characters.")
        releases = Release.objects.filter(version=version).select_related("project")
        if project is not None:
            releases = releases.filter(project__in=_projects_or_400([project]))
        return releases

    def get(self, request, org, version, project=None):
        releases = self._releases(version, project)
        if not releases.exists():
            raise Http404(f"Release {version!r} not found.")
        return Response(release_info(version, releases))

    def put(self, request, org, version, project=None):
        body = ReleaseChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        named = [project] if project is not None else body.validated_data["projects"]
        projects = _projects_or_400(named) if named else [r.project for r in self._releases(version, None)]
        releases = announce_release(version, projects, body.validated_data.get("dateReleased"))
        return Response(release_info(version, releases))


class DeploysView(ToolView):
    """`sentry-cli deploys new`: acknowledged, not kept (the environment comes with each report)."""

    def post(self, request, org, version, project=None):
        environment = request.data.get("environment") if isinstance(request.data, dict) else None
        if not isinstance(environment, str) or not environment:
            raise ParseError("A deploy needs an environment.")
        return Response({"id": "1", "environment": environment, "dateFinished": timezone.now()}, status=status.HTTP_201_CREATED)


# --- chunked uploads -----------------------------------------------------------------------


class ChunkUploadView(ToolView):
    """GET: the upload options sentry-cli 2.x/3.x and the toolkit read. POST: chunks, as
    multipart parts named `file_gzip` (or `file`) whose file names are their SHA-1."""

    parser_classes = [MultiPartParser]

    def get(self, request, org):
        return Response({
            "url": _upload_url(request, org),
            "chunkSize": settings.CHUNK_BYTES,
            "chunksPerRequest": settings.CHUNKS_PER_REQUEST,
            "maxRequestSize": settings.CHUNKS_PER_REQUEST * settings.CHUNK_BYTES,
            "maxFileSize": settings.MAX_BUNDLE_BYTES,
            "concurrency": 1,
            "hashAlgorithm": "sha1",
            "compression": ["gzip"],
            "accept": ACCEPT,
        })

    def post(self, request, org):
        chunks = [(part.name, part.read()) for part in request.FILES.getlist("file")]
        for part in request.FILES.getlist("file_gzip"):
            chunks.append((part.name, _gunzip(part.read(), part.name)))
        if not chunks:
            raise ParseError("No chunks: send multipart parts named file or file_gzip.")
        if len(chunks) > settings.CHUNKS_PER_REQUEST:
            raise ParseError(f"At most {settings.CHUNKS_PER_REQUEST} chunks a request.")
        try:
            uploads.store_chunks(chunks)
        except uploads.BadChunk as exc:
            raise ParseError(str(exc)) from None
        return Response(status=status.HTTP_200_OK)


def _upload_url(request, org):
    """Relative to the API root, so uploads work behind any proxy; the toolkit CLI (User-Agent
    `sentry-cli/0.x … node/…`) cannot resolve a relative URL, so it gets PUBLIC_URL's."""
    path = f"/api/0/organizations/{org}/chunk-upload/"
    if " node/" in request.headers.get("User-Agent", ""):
        return settings.PUBLIC_URL.rstrip("/") + path
    return path


def _gunzip(data, name):
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        raw = inflater.decompress(data, settings.CHUNK_BYTES + 1)
    except zlib.error:
        raise ParseError(f"Chunk {name!r} is not valid gzip.") from None
    if len(raw) > settings.CHUNK_BYTES:
        raise ParseError(f"Chunk {name!r} inflates past {settings.CHUNK_BYTES} bytes.")
    if not inflater.eof:
        raise ParseError(f"Chunk {name!r} is cut short.")
    return raw


class AssembleSerializer(serializers.Serializer):
    checksum = serializers.RegexField(r"^[0-9a-fA-F]{40}$")
    chunks = serializers.ListField(child=serializers.RegexField(r"^[0-9a-fA-F]{40}$"), max_length=1000)
    projects = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    version = serializers.CharField(max_length=RELEASE_CHARACTERS, required=False, default="", allow_blank=True)
    dist = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)


class AssembleView(ToolView):
    """Assemble an artifact bundle from uploaded chunks; `missingChunks` is always given."""

    def post(self, request, org):
        body = AssembleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = uploads.assemble(data["checksum"], data["chunks"], data["projects"], data["version"], data["dist"])
        return Response({"state": result.state, "missingChunks": result.missing_chunks, "detail": result.detail})

