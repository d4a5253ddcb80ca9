from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maintenance.retention import purge_projects, purge_resolved
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Delete resolved errors (and their occurrences) last seen more than RETENTION_DAYS ago, "
        "or a project's own retention days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="these days for every project instead")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more")
        purged = purge_projects(dry_run=dry_run) if days is None else purge_resolved(days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        own = Project.objects.filter(retention_days__isnull=False).count() if days is None else 0
        self.stdout.write(
            f"{verb} {purged.groups} resolved error group(s) and {purged.occurrences} occurrence(s) "
            f"last seen more than {settings.RETENTION_DAYS if days is None else days} day(s) ago"
            + (f" ({own} project(s) with days of their own)." if own else ".")
        )
