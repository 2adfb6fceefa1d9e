"""Bounded, thread-safe caches kept per database in this server process.

Immutable things derived from the store (a version's serialized pull entry, a version's canonical
body) are cached so that fifty tablets or the projection right after a push do not decode or
encode them again. Keys are only unique within one database's feed, so each database (engine)
gets its own cache, dropped with the engine.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from sqlalchemy import Engine

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedLRU(Generic[K, V]):
    """A least-recently-used map of at most ``size`` entries, safe from any thread."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put_many(self, items: Iterable[tuple[K, V]]) -> None:
        with self._lock:
            for key, value in items:
                self._entries[key] = value
                self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def put(self, key: K, value: V) -> None:
        self.put_many([(key, value)])


def per_engine(factory: Callable[[], BoundedLRU[K, V]]) -> Callable[[Engine], BoundedLRU[K, V]]:
    """``cache_for(engine)``: the cache of one database, made by ``factory`` on first use."""
    made: weakref.WeakKeyDictionary[Engine, BoundedLRU[K, V]] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def cache_for(engine: Engine) -> BoundedLRU[K, V]:
        with lock:
            cache = made.get(engine)
            if cache is None:
                cache = made[engine] = factory()
            return cache

    return cache_for
