"""A small per-process cache whose entries expire, shared by a process's request threads."""

import threading
import time
from collections import OrderedDict


class ExpiringCache:
    """Values by key for `seconds`; at most `kept` keys, the oldest dropped first. A load that
    finds nothing (None) is remembered only with `remember_none`, so that, say, a key created a
    moment ago works at once."""

    def __init__(self, seconds, kept=10_000, remember_none=False):
        self.seconds, self.kept, self.remember_none = seconds, kept, remember_none
        self.lock = threading.Lock()
        self.entries = OrderedDict()

    def get(self, key, load):
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None or self.remember_none:
            with self.lock:
                self.entries[key] = (now + self.seconds, value)
                self.entries.move_to_end(key)
                while len(self.entries) > self.kept:
                    self.entries.popitem(last=False)
        return value

    def clear(self):
        with self.lock:
            self.entries.clear()
