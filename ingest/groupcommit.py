"""Group commit: on SQLite, the reports of one process that wait for the write lock are written
together, in one transaction, by one of their threads.

SQLite lets one writer in at a time, so concurrent reports queue anyway; each of them paying
its own BEGIN and COMMIT (and the WAL pages they write) is what grouping saves. A report is
still answered only after the transaction that holds it has committed. If that transaction
fails over one report, each of its reports is written again in a transaction of its own, so one
bad report cannot fail the others, and each thread gets its own report's result or error.
"""

import logging
import threading
from collections import deque

from django.db import connection, transaction

from tracker.dberrors import is_database_unavailable

logger = logging.getLogger("errors.ingest")

# The most reports one transaction holds: enough to amortise a commit, few enough that the
# first of them is not kept waiting behind the others' statements.
MOST_IN_ONE_COMMIT = 16


class WriterStopped(RuntimeError):
    """The thread writing a batch was stopped before the batch was decided."""


_UNDECIDED = object()


class _Ticket:
    __slots__ = ("write", "done", "result", "error", "woken")

    def __init__(self, write):
        self.write = write
        self.done = False
        self.result = _UNDECIDED
        self.error = None
        # Set when the report is written, or when its thread is to write the next batch.
        self.woken = threading.Event()

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Runs `write` functions, each of which needs a transaction, several to a transaction.

    One thread at a time writes: it takes the waiting reports in order, a batch at a time,
    until its own is written, then wakes the thread of the first report still waiting to write
    the next batch. Every other thread sleeps until its own report is written, so a written
    report's answer never waits for later ones.
    """

    def __init__(self, most=MOST_IN_ONE_COMMIT):
        self.most = most
        self._guard = threading.Lock()
        self._waiting = deque()
        self._writing = False

    def run(self, write):
        """`write()`'s result once it is committed; its exception if it failed."""
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            # Other databases take concurrent writers as they come; a caller's own transaction
            # must not carry other threads' reports, whose fate it alone decides.
            (result,) = _in_one_transaction([write])
            return result
        ticket = _Ticket(write)
        with self._guard:
            self._waiting.append(ticket)
            writes_now = not self._writing
            self._writing = True
        if not writes_now:
            ticket.woken.wait()
            if ticket.done:
                return ticket.outcome()
        try:
            while not ticket.done:
                with self._guard:
                    batch = [self._waiting.popleft() for _ in range(min(self.most, len(self._waiting)))]
                self._write(batch)
        finally:
            with self._guard:
                if self._waiting:
                    self._waiting[0].woken.set()
                else:
                    self._writing = False
        return ticket.outcome()

    def _write(self, batch):
        try:
            results = _in_one_transaction([ticket.write for ticket in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            elif is_database_unavailable(exc):
                # The database's trouble (locked by another process), not a report's: every
                # report of the batch gets it, rather than waiting for it again one by one.
                for ticket in batch:
                    ticket.error = _own_copy(exc)
            else:
                for ticket in batch:
                    _write_alone(ticket)
        else:
            for ticket, result in zip(batch, results):
                ticket.result = result
        finally:
            for ticket in batch:
                if ticket.error is None and ticket.result is _UNDECIDED:
                    # The writing thread was stopped (KeyboardInterrupt, SystemExit) mid-batch.
                    ticket.error = WriterStopped("The report's transaction was interrupted; it was not stored.")
                ticket.done = True
                ticket.woken.set()


def _in_one_transaction(writes):
    """The writes' results, once their transaction has committed. A commit hook that fails
    after COMMIT is logged, not raised: the writes are stored, and must not be written again."""
    committed, results = [], []
    try:
        with transaction.atomic():
            # Registered first, so it runs first after COMMIT.
            transaction.on_commit(lambda: committed.append(True))
            for write in writes:
                results.append(write())
    except Exception:
        if not committed:
            raise
        logger.exception("a commit hook failed after the reports were stored")
    return results


def _write_alone(ticket):
    try:
        (ticket.result,) = _in_one_transaction([ticket.write])
    except Exception as exc:
        ticket.error = exc


def _own_copy(exc):
    """The same error for another thread to raise, with a traceback of its own."""
    try:
        copy = type(exc)(*exc.args)
    except TypeError:
        return exc
    copy.__cause__ = exc
    return copy
