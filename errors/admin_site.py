"""The admin site, with failed logins limited per client IP."""

from django.contrib import admin
from django.template.response import TemplateResponse

from .limits import count_request

FAILED_LOGIN_RATE = "10/m"


class TrackerAdminSite(admin.AdminSite):
    site_header = "error-tracker"
    site_title = "error-tracker"
    index_title = "Triage"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        failures = count_request(request, "admin-login", FAILED_LOGIN_RATE, increment=False)
        if failures is not None and failures["count"] >= failures["limit"]:
            retry_after = max(failures["time_left"], 1)
            response = TemplateResponse(
                request, "admin/too_many_attempts.html", {**self.each_context(request), "retry_after": retry_after}, status=429
            )
            response["Retry-After"] = str(retry_after)
            return response
        response = super().login(request, extra_context)
        if response.status_code != 302:  # the form came back: the password was wrong
            count_request(request, "admin-login", FAILED_LOGIN_RATE)
        return response
