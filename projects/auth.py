"""Who is calling the API: the master API_KEY, or one project's key, and what each may do.

Project keys are looked up once every KEY_CACHE_SECONDS per process, not once per report; a key
deactivated or deleted in the admin stops working within that time.
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from tracker.expiring import ExpiringCache

from .models import ApiToken, Project, ProjectKey, split_list, token_digest, unique_slug

HEADER = "X-API-Key"
KEY_CACHE_SECONDS = 5
LAST_USED_RESOLUTION = timedelta(minutes=1)
# What projects.models.new_public_key makes; anything else (a NUL byte, which PostgreSQL
# refuses in a query) is no key, answered without asking the database.
_PUBLIC_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class ProjectSettings:
    """What ingestion needs to know of a project, cached with its keys."""

    id: int
    name: str
    events_per_minute: int
    new_groups_per_hour: int
    strategy: str
    alert_recipients: tuple
    alert_environments: tuple

    @classmethod
    def of(cls, project):
        return cls(
            project.pk, project.name, project.events_per_minute, project.new_groups_per_hour, project.strategy,
            tuple(project.alert_recipients), tuple(project.alerting_environments),
        )


@dataclass(frozen=True)
class KeyGrant:
    """An active project key: it may write its own project, from its origins, within its limit."""

    key_id: int
    project: ProjectSettings
    origins: tuple
    events_per_minute: int | None

    def allows_origin(self, origin):
        return "*" in self.origins or origin in self.origins


class Caller:
    """The authenticated caller: `grant` is None for the master key and for API tokens."""

    is_authenticated = True

    def __init__(self, grant=None, token_id=None):
        self.grant = grant
        self.token_id = token_id

    @property
    def is_master(self):
        return self.grant is None and self.token_id is None


_grants = ExpiringCache(KEY_CACHE_SECONDS)
_projects = ExpiringCache(KEY_CACHE_SECONDS)
_tokens = ExpiringCache(KEY_CACHE_SECONDS)


def forget_cached_keys():
    """For this process, at once: after the admin or a command changed keys, tokens or projects."""
    _grants.clear()
    _projects.clear()
    _tokens.clear()


def token_id_for(token):
    """The id of an API token not revoked, or None."""
    if not token.startswith("sntryu_") or len(token) > 100:
        return None
    return _tokens.get(token_digest(token), lambda: _load_token(token_digest(token)))


def _load_token(digest):
    token = ApiToken.objects.filter(digest=digest, revoked_at__isnull=True).only("pk").first()
    if token is None:
        return None
    now = timezone.now()
    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), pk=token.pk).update(
        last_used_at=now
    )
    return token.pk


def grant_for(public_key):
    """The KeyGrant of an active key, or None (unknown and deactivated keys alike)."""
    if not isinstance(public_key, str) or not _PUBLIC_KEY.fullmatch(public_key):
        return None
    return _grants.get(public_key, lambda: _load_grant(public_key))


def _load_grant(public_key):
    key = ProjectKey.objects.select_related("project").filter(public_key=public_key, is_active=True).first()
    if key is None:
        return None
    now = timezone.now()
    # At most one write a minute per key, whatever the traffic.
    ProjectKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), pk=key.pk).update(
        last_used_at=now
    )
    return KeyGrant(key.pk, ProjectSettings.of(key.project), tuple(key.origins), key.events_per_minute)


def project_settings(name):
    """The project named `name`, created on its first report (the master key's path)."""

    def load():
        project = Project.objects.filter(name=name).first()
        if project is None:
            try:
                project, _created = Project.objects.get_or_create(name=name)
            except IntegrityError:
                # Another name took the same slug at the same moment ("My App", "my-app").
                project = Project.objects.filter(name=name).first() or Project.objects.create(
                    name=name, slug=f"{unique_slug(name)[:80]}-{secrets.token_hex(3)}"
                )
        return ProjectSettings.of(project)

    return _projects.get(name, load)


def existing_project_settings(name):
    """The project named `name`, cached as project_settings keeps it, or None: nothing is created
    (a dry run writes nothing)."""

    def load():
        project = Project.objects.filter(name=name).first()
        return ProjectSettings.of(project) if project is not None else None

    return _projects.get(("existing", name), load)


def all_allowed_origins():
    """Every origin some active key accepts reports from (for CORS preflights, which carry no key)."""

    def load():
        origins = set()
        for text in ProjectKey.objects.filter(is_active=True).exclude(allowed_origins="").values_list(
            "allowed_origins", flat=True
        ):
            origins.update(split_list(text))
        return frozenset(origins)

    return _grants.get("*origins*", load)


def _is_master(supplied):
    return hmac.compare_digest(supplied.encode(), settings.API_KEY.encode())


MISSING_KEY = f"Missing {HEADER} header."
INVALID_KEY = "Invalid API key."
MISSING_DSN_KEY = "Missing sentry_key: send the X-Sentry-Auth header or the sentry_key query parameter."
INVALID_DSN_KEY = "Invalid DSN key for this project."


def _refused(detail):
    """401 with WWW-Authenticate, as DRF answers an authenticator that names its header."""
    exc = AuthenticationFailed(detail)
    exc.auth_header = HEADER
    return exc


def api_key_caller(supplied):
    """The caller an X-API-Key value names: the master key, or an active project key (which
    may only submit reports); AuthenticationFailed otherwise."""
    if supplied is None:
        raise _refused(MISSING_KEY)
    if _is_master(supplied):
        return Caller()
    grant = grant_for(supplied)
    if grant is None:
        raise _refused(INVALID_KEY)
    return Caller(grant)


def sentry_key_sent(request):
    """The DSN key of X-Sentry-Auth or of the sentry_key parameter (browser SDKs), or None."""
    header = request.headers.get("X-Sentry-Auth", "")
    for part in header.removeprefix("Sentry ").split(","):
        name, _, value = part.strip().partition("=")
        if name == "sentry_key":
            return value
    return request.GET.get("sentry_key")


def dsn_key(dsn):
    """The key of a DSN (an envelope header's `dsn`, as tunnels forward envelopes), or None."""
    try:
        return urlsplit(dsn).username if isinstance(dsn, str) and dsn else None
    except ValueError:  # not a URL at all
        return None


def dsn_caller(supplied, project_id):
    """The caller a DSN key names for the project in the path.

    The master key is not a DSN key: DSNs are public. A key of another project, an unknown
    project, a deactivated key and an unknown key all get the same answer, so that nobody can
    learn which projects exist.
    """
    if supplied is None:
        raise _refused(MISSING_DSN_KEY)
    grant = grant_for(supplied)
    if grant is None or str(grant.project.id) != str(int(project_id)):
        raise _refused(INVALID_DSN_KEY)
    return Caller(grant)


class ApiKeyAuthentication(BaseAuthentication):
    """X-API-Key, for DRF's views (see api_key_caller)."""

    def authenticate(self, request):
        return api_key_caller(request.headers.get(HEADER)), None

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 rather than 403.
        return HEADER


class SentryKeyAuthentication(ApiKeyAuthentication):
    """A DSN key, for what a Sentry route answers to methods other than POST (see dsn_caller)."""

    def authenticate(self, request):
        return dsn_caller(sentry_key_sent(request), request.parser_context["kwargs"]["project_id"]), None


class KeyAllowsRequest(BasePermission):
    """The master key may do anything on DRF's views; a project key nothing (it may only submit
    reports, which the report routes of ingest.views check themselves)."""

    message = "This key can only submit reports (POST /api/errors and its project's Sentry routes)."

    def has_permission(self, request, view):
        caller = request.user
        return caller is not None and caller.is_master


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`, as sentry-cli and the bundler plugins send it: an API
    token (`error-tracker createtoken`), or API_KEY itself."""

    def authenticate(self, request):
        scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
        supplied = supplied.strip()
        if scheme.lower() != "bearer" or not supplied:
            raise AuthenticationFailed("Missing token: send Authorization: Bearer <token> (error-tracker createtoken).")
        if _is_master(supplied):
            return Caller(), None
        token_id = token_id_for(supplied)
        if token_id is None:
            raise AuthenticationFailed("Invalid or revoked token.")
        return Caller(token_id=token_id), None

    def authenticate_header(self, request):
        return "Bearer"
