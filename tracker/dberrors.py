"""Which database errors mean the database is unavailable for now (answered 503, retried by
clients) rather than a query it refuses (a bug, answered 500)."""

from django.db import InterfaceError, OperationalError

# What a database says when it cannot be reached or is busy for now, as opposed to a query it
# refuses ("no such table"), which is a bug and answers 500 with its traceback logged.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "57P", "53")  # connection, operator intervention, resources
_TRANSIENT_MESSAGES = ("database is locked", "connection", "could not connect", "server closed", "timeout expired")


def is_database_unavailable(exc):
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES)
    text = str(exc).lower()
    return any(message in text for message in _TRANSIENT_MESSAGES)
