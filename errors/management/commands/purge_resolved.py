from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from errors.retention import purge_resolved


class Command(BaseCommand):
    help = "Delete resolved errors (and their occurrences) last seen more than RETENTION_DAYS ago."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="override RETENTION_DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more")
        purged = purge_resolved(days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {purged.groups} resolved error group(s) and {purged.occurrences} occurrence(s) "
            f"last seen more than {days} day(s) ago."
        )
