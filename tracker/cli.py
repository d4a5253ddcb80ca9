"""The `error-tracker` command.

With no arguments (or `serve`): apply migrations, then serve the app with granian on
HOST:PORT (tracker/server.py). Any other arguments run that Django management command.
"""

import os
import sys

MIGRATION_LOCK_ID = 5010  # any constant shared by every instance


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"error-tracker: {exc}", file=sys.stderr)
        return 2

    if argv and argv[0] != "serve":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["error-tracker", *argv])
        return 0
    return serve()


def serve():
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connections

    try:
        call_command("check")
    except SystemCheckError as exc:
        print(f"error-tracker: {exc}", file=sys.stderr)
        return 2
    _migrate_once()
    _ensure_admin_user(settings)
    connections.close_all()  # no connection may cross the fork into workers

    from tracker.server import serve as serve_forever

    serve_forever(settings)
    return 0


def _migrate_once():
    """Apply migrations; on PostgreSQL under an advisory lock, so instances starting together
    take turns (the second finds nothing to do)."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        call_command("migrate", interactive=False, verbosity=0)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
        try:
            call_command("migrate", interactive=False, verbosity=0)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])


def _ensure_admin_user(settings):
    """Create ADMIN_USERNAME as a superuser if it does not exist; never touch an existing one."""
    if not settings.ADMIN_USERNAME:
        return
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if User.objects.filter(username=settings.ADMIN_USERNAME).exists():
        print(f"error-tracker: admin user {settings.ADMIN_USERNAME!r} exists; ADMIN_PASSWORD not applied", file=sys.stderr)
        return
    User.objects.create_superuser(settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD)
    print(f"error-tracker: created admin user {settings.ADMIN_USERNAME!r}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
