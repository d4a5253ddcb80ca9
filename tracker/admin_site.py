"""The admin site, with login attempts limited per client IP."""

from django.contrib import admin
from django.contrib.admin import apps as admin_apps
from django.template.response import TemplateResponse

from .limits import count_request

LOGIN_RATE = "10/m"


class TrackerAdminSite(admin.AdminSite):
    site_header = "error-tracker"
    site_title = "error-tracker"
    index_title = "Triage"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        # Counted before the password is checked, so concurrent guesses cannot slip past the limit.
        attempts = count_request(request, "admin-login", LOGIN_RATE)
        if attempts is not None and attempts["should_limit"]:
            retry_after = max(attempts["time_left"], 1)
            response = TemplateResponse(
                request, "admin/too_many_attempts.html", {**self.each_context(request), "retry_after": retry_after}, status=429
            )
            response["Retry-After"] = str(retry_after)
            return response
        return super().login(request, extra_context)


class TrackerAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with this site; named in INSTALLED_APPS."""

    default = False
    default_site = "tracker.admin_site.TrackerAdminSite"
