"""error-tracker createtoken [--name NAME]: a new API token for sentry-cli and the bundler
plugins; the token is the last line printed, and is shown only this once."""

from django.core.management.base import BaseCommand, CommandError

from projects.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for sentry-cli (SENTRY_AUTH_TOKEN); prints it last, once."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="", help="what the token is for, e.g. ci or webpack")

    def handle(self, *args, name, **options):
        if len(name) > 100:
            raise CommandError("--name must be at most 100 characters.")
        row, token = ApiToken.issue(name)
        self.stdout.write(f"Created API token {row.name or row.pk!r}; it is shown only now, store it as SENTRY_AUTH_TOKEN:")
        self.stdout.write(token)
