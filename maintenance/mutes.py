"""Mutes that run out by time end without waiting for a report: the jobs thread's sweep."""

from django.utils import timezone

from errors.models import Alert, Error
from notifications.alerts import queue_alert
from projects.auth import project_settings


def unmute_expired(now=None):
    """Unmute every group whose `muted_until` has passed, and alert as "unmuted"; returns how many."""
    now = now or timezone.now()
    expired = list(Error.objects.filter(muted=True, muted_until__lte=now).values_list("pk", "project", "environment"))
    unmuted = 0
    for pk, project, environment in expired:
        # Of several instances sweeping at once, the one whose UPDATE changes the row alerts.
        if Error.objects.filter(pk=pk, muted=True, muted_until__lte=now).unmute():
            queue_alert(pk, Alert.UNMUTED, environment, project_settings(project))
            unmuted += 1
    return unmuted
