from django.apps import AppConfig


class ErrorsConfig(AppConfig):
    name = "errors"
    verbose_name = "Error tracking"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
