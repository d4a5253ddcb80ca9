"""Mutes that run out by time end without waiting for a report: the jobs thread's sweep."""

from django.db import transaction
from django.utils import timezone

from errors.models import Alert, Error
from notifications.alerts import queue_alert
from projects.auth import ProjectSettings
from projects.models import Project


def unmute_expired(now=None):
    """Unmute every group whose `muted_until` has passed, and alert as "unmuted"; returns how many."""
    now = now or timezone.now()
    expired = list(Error.objects.filter(muted=True, muted_until__lte=now).values_list("pk", "project", "environment"))
    unmuted = 0
    for pk, project_name, environment in expired:
        # One transaction, as ingest writes its alerts: the unmute and its alert land together.
        with transaction.atomic():
            # Of several instances sweeping at once, the one whose change takes the row alerts.
            if not Error.objects.filter(pk=pk, muted=True, muted_until__lte=now).unmute():
                continue
            project = Project.objects.filter(name=project_name).first()
            if project is not None:
                queue_alert(pk, Alert.UNMUTED, environment, ProjectSettings.of(project))
        unmuted += 1
    return unmuted
