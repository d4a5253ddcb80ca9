"""What this process knows is already stored, so the write path can skip a statement."""

from django.db import transaction


class CommittedSet:
    """A bounded set of keys whose rows are committed: a key is added only once its transaction
    has committed (a rolled-back insert is not remembered), and the set is emptied when full."""

    def __init__(self, kept):
        self.kept = kept
        self.keys = set()

    def __contains__(self, key):
        return key in self.keys

    def add_on_commit(self, key):
        transaction.on_commit(lambda: self._add(key))

    def _add(self, key):
        if len(self.keys) >= self.kept:
            self.keys.clear()
        self.keys.add(key)

    def clear(self):
        """For tests that delete groups: ids may be reused."""
        self.keys.clear()
