from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ErrorsConfig(AppConfig):
    name = "errors"
    verbose_name = "Error tracking"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)


class TrackerAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (failed-login limit); named in INSTALLED_APPS."""

    default = False
    default_site = "errors.admin_site.TrackerAdminSite"
