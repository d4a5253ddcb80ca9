"""The admin site, with failed logins limited per client IP."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django_ratelimit.core import get_usage

from .limits import client_ip

FAILED_LOGIN_RATE = "10/m"


def _failed_logins(request, *, record):
    usage = get_usage(
        request, group="admin-login", key=lambda group, req: client_ip(req), rate=FAILED_LOGIN_RATE, increment=record
    )
    return usage["count"], usage["limit"], usage["time_left"]


class TrackerAdminSite(admin.AdminSite):
    site_header = "error-tracker"
    site_title = "error-tracker"
    index_title = "Triage"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        count, limit, time_left = _failed_logins(request, record=False)
        if count >= limit:
            response = TemplateResponse(
                request, "admin/too_many_attempts.html", {**self.each_context(request), "retry_after": time_left}, status=429
            )
            response["Retry-After"] = str(max(time_left, 1))
            return response
        response = super().login(request, extra_context)
        if response.status_code != 302:  # the form came back: the password was wrong
            _failed_logins(request, record=True)
        return response
