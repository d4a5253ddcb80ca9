"""Projects, the keys that may write into them (their DSNs), and the API tokens of tools."""

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

FINGERPRINT_STRATEGIES = [
    ("line", "line (file and line)"),
    ("function", "function (file and function)"),
    ("stack", "stack (every app frame's module and function)"),
]


def new_public_key():
    """32 hex characters: Sentry's JavaScript SDK accepts only [a-z0-9_] in a DSN's key."""
    return secrets.token_hex(16)


class Project(models.Model):
    """A project: the spec's `project` string, with the number its DSNs carry and its settings.

    A setting left empty falls back to the service-wide variable of the same meaning.
    """

    # No ':': the fingerprint key is `project:type:file:line`, and a ':' in a name would let a
    # report of one project spell another's key.
    name = models.CharField(
        max_length=100, unique=True, validators=[RegexValidator(r"^[^:]+$", "A project name may not contain ':'.")]
    )
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    events_per_minute = models.PositiveIntegerField(
        default=10_000, validators=[MinValueValidator(1)],
        help_text="Reports accepted per minute for this project, over all its keys.",
    )
    new_groups_per_hour = models.PositiveIntegerField(
        default=1_000, validators=[MinValueValidator(1)],
        help_text="New groups per hour; reports of further new fingerprints are counted into one overflow group.",
    )
    fingerprint_strategy = models.CharField(max_length=20, choices=FINGERPRINT_STRATEGIES, blank=True, default="")
    retention_days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: RETENTION_DAYS.")
    alert_emails = models.TextField(blank=True, default="", help_text="Comma-separated; empty: ALERT_EMAILS.")
    alert_environments = models.TextField(
        blank=True, default="", help_text="Comma-separated; empty: ALERT_ENVIRONMENTS (all when that is empty too)."
    )

    class Meta:
        db_table = "projects"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name)
        super().save(*args, **kwargs)

    @property
    def strategy(self):
        return self.fingerprint_strategy or settings.FINGERPRINT_STRATEGY

    @property
    def alert_recipients(self):
        return split_list(self.alert_emails) or settings.ALERT_EMAILS

    @property
    def alerting_environments(self):
        return split_list(self.alert_environments) or settings.ALERT_ENVIRONMENTS

    @property
    def days_kept(self):
        return self.retention_days or settings.RETENTION_DAYS


def unique_slug(name):
    base = slugify(name)[:90] or "project"
    slug, n = base, 1
    while Project.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def split_list(text):
    return [part.strip() for part in text.split(",") if part.strip()]


class ProjectKey(models.Model):
    """A key that may submit reports to its project only: the public part of a DSN."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key, editable=False)
    label = models.CharField(max_length=100, blank=True, default="")
    is_active = models.BooleanField(default=True)
    allowed_origins = models.TextField(
        blank=True, default="", help_text="Comma-separated origins whose pages may report with this key, or *."
    )
    events_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Reports accepted per minute with this key; empty: the project's quota only.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "project_keys"
        ordering = ["project", "id"]

    def __str__(self):
        return f"{self.project.name}: {self.label or self.public_key[:8]}"

    @property
    def origins(self):
        return split_list(self.allowed_origins)

    @property
    def dsn(self):
        scheme, _, host = settings.PUBLIC_URL.partition("://")
        return f"{scheme}://{self.public_key}@{host}/{self.project_id}"


# sentry-cli recognises `sntryu_` + 64 hex characters as a user token, without a warning.
TOKEN_PREFIX = "sntryu_"


def token_digest(token):
    """What is stored of a token: its SHA-256. A token is 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for tools (sentry-cli, the bundler plugins): releases and source maps.
    Only its digest is stored; the token itself is shown once, when it is made."""

    name = models.CharField(max_length=100, blank=True, default="")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=20, editable=False, help_text="The token's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name or 'token'} ({self.hint}…)"

    def new_token(self):
        """Give this (unsaved) row a new token; returns the token, which is not kept anywhere."""
        token = TOKEN_PREFIX + secrets.token_hex(32)
        self.digest, self.hint = token_digest(token), token[: len(TOKEN_PREFIX) + 4]
        return token

    @classmethod
    def issue(cls, name=""):
        """A new token: (its saved row, the token)."""
        row = cls(name=name)
        token = row.new_token()
        row.save()
        return row, token


class AlertChannel(models.Model):
    """Somewhere besides email a project's alerts go: an incoming webhook of Slack (or Mattermost,
    which takes Slack's body), Discord, or any service taking a JSON POST."""

    SLACK = "slack"
    DISCORD = "discord"
    WEBHOOK = "webhook"
    KINDS = [
        (SLACK, "Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)"),
        (DISCORD, "Discord webhook"),
        (WEBHOOK, "JSON POST (README: Alert channels)"),
    ]

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=20, choices=KINDS)
    url = models.URLField(max_length=2000, help_text="Where the alert is POSTed; private addresses need WEBHOOK_ALLOWED_HOSTS.")
    label = models.CharField(max_length=100, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "alert_channels"
        ordering = ["project", "id"]

    def __str__(self):
        return f"{self.get_kind_display().split(' (')[0]}: {self.label or self.url[:60]}"

    def clean(self):
        # URLField also takes ftp:// and ftps://, which cannot receive a POST.
        if self.url and urlsplit(self.url).scheme.lower() not in ("http", "https"):
            raise ValidationError({"url": "The URL must start with http:// or https://."})
