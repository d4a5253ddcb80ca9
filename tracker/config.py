"""Typed readers for the service's environment variables, used by tracker/settings.py.

Each reads one variable from a mapping (os.environ in the service, a dict in tests) and either
returns a clean value or raises ImproperlyConfigured with one line naming the variable.
"""

import environ
from django.core.exceptions import ImproperlyConfigured


def _finite_float(text):
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


class Reader:
    def __init__(self, variables):
        self.variables = variables
        self.env = environ.Env()
        # django-environ reads os.environ; point it at the mapping given.
        self.env.ENVIRON = variables

    def _raw(self, name):
        value = self.variables.get(name)
        return None if value is None or not value.strip() else value.strip()

    def required(self, name):
        value = self.variables.get(name, "")
        if not value.strip():
            raise ImproperlyConfigured(f"{name} is required: set the {name} environment variable")
        return value

    def string(self, name, default=""):
        raw = self._raw(name)
        return default if raw is None else raw

    def boolean(self, name, default=False):
        raw = self._raw(name)
        if raw is None:
            return default
        spelled = raw.lower()
        if spelled in ("1", "true", "yes", "on"):
            return True
        if spelled in ("0", "false", "no", "off"):
            return False
        raise ImproperlyConfigured(f"{name} is malformed: {raw!r} is not true or false")

    def integer(self, name, default, *, minimum=None, maximum=None):
        return self._numeric(name, default, int, "a whole number", minimum, maximum)

    def number(self, name, default, *, minimum=None, maximum=None):
        return self._numeric(name, default, _finite_float, "a finite number", minimum, maximum)

    def _numeric(self, name, default, parse, kind, minimum, maximum):
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} is malformed: {raw!r} is not {kind}") from None
        return self._in_range(name, value, minimum, maximum)

    def choice(self, name, default, choices):
        value = self.string(name, default).lower()
        if value not in choices:
            raise ImproperlyConfigured(f"{name} is malformed: {value!r} is not one of {', '.join(choices)}")
        return value

    def string_list(self, name, default=()):
        """A comma-separated list, each entry stripped, empty entries dropped."""
        raw = self._raw(name)
        if raw is None:
            return list(default)
        return [entry.strip() for entry in raw.split(",") if entry.strip()]

    def db_url(self, name):
        try:
            return self.env.db_url(name)
        except (ValueError, KeyError, ImproperlyConfigured) as exc:
            raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc

    def cache_url(self, name, default):
        try:
            return self.env.cache_url(name, default=default)
        except (ValueError, KeyError, ImproperlyConfigured) as exc:
            raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc

    @staticmethod
    def _in_range(name, value, minimum, maximum):
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name} is malformed: {value} is below the minimum of {minimum}")
        if maximum is not None and value > maximum:
            raise ImproperlyConfigured(f"{name} is malformed: {value} is above the maximum of {maximum}")
        return value
