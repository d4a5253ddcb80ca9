"""error-tracker createproject NAME [--origin ORIGIN ...] [--rate-limit N] [--strategy S]: a project (if new)
and a new key for it; the key's DSN is the last line printed."""

import re

from django.core.management.base import BaseCommand, CommandError

from projects.models import FINGERPRINT_STRATEGIES, Project, ProjectKey

ORIGIN = re.compile(r"https?://[^/\s*]+|\*")


class Command(BaseCommand):
    help = "Create a project if needed and a new key for it; prints the key's DSN last."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the project's name, as reports send it in `project`")
        parser.add_argument("--origin", action="append", default=[], help="an origin whose pages may report with this key (repeatable; * for any)")
        parser.add_argument("--rate-limit", type=int, help="at most this many events a minute with this key")
        parser.add_argument("--label", default="", help="what the key is for, e.g. web or backend")
        parser.add_argument(
            "--strategy", choices=[value for value, _ in FINGERPRINT_STRATEGIES],
            help="how this project's reports are grouped (default: FINGERPRINT_STRATEGY)",
        )

    def handle(self, *args, name, origin, rate_limit, label, strategy, **options):
        if not 0 < len(name) <= 100 or ":" in name:
            raise CommandError("NAME must be 1 to 100 characters, without ':'.")
        bad = [entry for entry in origin if not ORIGIN.fullmatch(entry)]
        if bad:
            raise CommandError(f"{bad[0]!r} is not an origin like https://app.example.com (or *).")
        if rate_limit is not None and rate_limit < 1:
            raise CommandError("--rate-limit must be at least 1.")
        project, created = Project.objects.get_or_create(name=name)
        if strategy is not None and project.fingerprint_strategy != strategy:
            Project.objects.filter(pk=project.pk).update(fingerprint_strategy=strategy)
        key = ProjectKey.objects.create(
            project=project, label=label, allowed_origins=",".join(origin), events_per_minute=rate_limit
        )
        self.stdout.write(f"{'Created' if created else 'Existing'} project {project.name!r} (number {project.pk})")
        self.stdout.write(f"New key {key.public_key}" + (f" for {', '.join(origin)}" if origin else ""))
        self.stdout.write(key.dsn)
