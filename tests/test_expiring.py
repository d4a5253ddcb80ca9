"""tracker/expiring.py: the per-process cache behind key, token and source-map lookups."""

from tracker import expiring
from tracker.expiring import ExpiringCache


def test_a_value_is_loaded_once_until_it_expires(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(expiring.time, "monotonic", lambda: clock[0])
    cache, loads = ExpiringCache(5), []

    def load():
        loads.append(1)
        return "grant"

    assert cache.get("k", load) == cache.get("k", load) == "grant"
    clock[0] += 6
    cache.get("k", load)
    assert len(loads) == 2


def test_nothing_found_is_remembered_only_when_asked():
    forgetful, remembering, loads = ExpiringCache(60), ExpiringCache(60, remember_none=True), []
    for cache in (forgetful, forgetful, remembering, remembering):
        cache.get("k", lambda: loads.append(cache) or None)
    assert loads == [forgetful, forgetful, remembering]


def test_it_keeps_at_most_kept_keys_dropping_the_oldest():
    cache = ExpiringCache(60, kept=2)
    for key in ("a", "b", "c"):
        cache.get(key, lambda key=key: key.upper())
    assert list(cache.entries) == ["b", "c"]
