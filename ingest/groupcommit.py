"""Group commit: on SQLite, the reports of one process that wait for the write lock are written
together, in one transaction, by the thread that gets it.

SQLite lets one writer in at a time, so concurrent reports queue anyway; each of them paying
its own BEGIN and COMMIT (and the WAL pages they write) is what grouping saves. A report is
still answered only after the transaction that holds it has committed. If that transaction
fails over one report, each of its reports is written again in a transaction of its own, so one
bad report cannot fail the others, and each thread gets its own report's result or error.
"""

import threading
from collections import deque

from django.db import OperationalError, connection, transaction

# The most reports one transaction holds: enough to amortise a commit, few enough that the
# first of them is not kept waiting behind the others' statements.
MOST_IN_ONE_COMMIT = 16


class _Ticket:
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write):
        self.write = write
        self.done = False
        self.result = None
        self.error = None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Runs `write` functions, each of which needs a transaction, several to a transaction."""

    def __init__(self, most=MOST_IN_ONE_COMMIT):
        self.most = most
        self._writer = threading.Lock()
        self._waiting = deque()

    def run(self, write):
        """`write()`'s result once it is committed; its exception if it failed."""
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            # Other databases take concurrent writers as they come; a caller's own transaction
            # must not carry other threads' reports, whose fate it alone decides.
            with transaction.atomic():
                return write()
        ticket = _Ticket(write)
        self._waiting.append(ticket)
        while not ticket.done:
            with self._writer:
                if not ticket.done:
                    self._write(self._take())
        return ticket.outcome()

    def _take(self):
        batch = []
        while self._waiting and len(batch) < self.most:
            batch.append(self._waiting.popleft())
        return batch

    def _write(self, batch):
        try:
            with transaction.atomic():
                results = [ticket.write() for ticket in batch]
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, OperationalError):
                # The database's trouble (locked by another process, disk full), not a report's:
                # every report of the batch gets it, rather than waiting for it again one by one.
                for ticket in batch:
                    ticket.error = exc
            else:
                for ticket in batch:
                    self._write_alone(ticket)
        except BaseException as exc:
            # The writing thread is being stopped: the others must not wait for it.
            for ticket in batch:
                ticket.error = exc
            raise
        else:
            for ticket, result in zip(batch, results):
                ticket.result = result
        finally:
            for ticket in batch:
                ticket.done = True

    @staticmethod
    def _write_alone(ticket):
        try:
            with transaction.atomic():
                ticket.result = ticket.write()
        except Exception as exc:
            ticket.error = exc
