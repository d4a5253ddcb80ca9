"""Django's SQLite backend, with one process's write transactions queueing in Python.

Every transaction here is BEGIN IMMEDIATE (settings.py), so SQLite lets one writer in at a
time. A thread that finds the lock taken waits in SQLite's busy handler, which polls with
sleeps of up to 100 ms: under load most of the time goes to sleeping while the lock is free.
Threads of one process instead take a Python lock first and are woken the moment it is
released; other processes still wait through the busy timeout.

Cursors also remember their `%s` to `?` conversions: Django redoes that regex substitution on
every execute, which for the ingest upsert cost as much as running it.
"""

import functools
import os
import threading

from django.db.backends.sqlite3 import base

_write_lock = threading.Lock()


def _new_write_lock():
    """A forked worker starts with its own lock: the parent's background thread may have held
    this one at the moment of the fork, and no thread in the child could ever release it."""
    global _write_lock
    _write_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_write_lock)


@functools.lru_cache(maxsize=1024)
def _qmark_style(query):
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    holds_write_lock = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def _start_transaction_under_autocommit(self):
        _write_lock.acquire()
        self.holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release_write_lock()

    def _release_write_lock(self):
        if self.holds_write_lock:
            self.holds_write_lock = False
            _write_lock.release()
