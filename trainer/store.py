"""The dataset store: every event the trainer has consumed, once, with where it came from.

SQLite in WAL mode with ``synchronous=FULL``: when :meth:`DatasetStore.add_batch` returns the
rows are on disk, so the consumer may commit the source offsets right after. ``event_id`` is
the primary key, which makes a redelivered event a no-op (exactly-once in effect).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.events.schema import decode_event
from gateway.events.sink import AnyEvent
from gateway.events.source import SourceRecord

__all__ = ["DatasetStore", "StoredEvent"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    tenant TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    payload TEXT NOT NULL,
    stored_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, stored_at);
CREATE INDEX IF NOT EXISTS events_source ON events (topic, partition, "offset");
"""


def _past(window: dict[str, list[int]], topic: str, partition: int, offset: int) -> bool:
    return offset > window.get(f"{topic}/{partition}", [-1, -1])[1]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its source position."""

    event: AnyEvent
    topic: str
    partition: int
    offset: int


def span_of(events: Sequence[StoredEvent]) -> dict[str, list[int]]:
    """'topic/partition' -> [first, last] offset of ``events``: what a refresh learnt from."""
    span: dict[str, list[int]] = {}
    for e in events:
        key = f"{e.topic}/{e.partition}"
        lo, hi = span.get(key, [e.offset, e.offset])
        span[key] = [min(lo, e.offset), max(hi, e.offset)]
    return span


class DatasetStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def add_batch(self, items: Sequence[tuple[AnyEvent, SourceRecord]]) -> set[str]:
        """Store events durably in one transaction; return the ids that were new."""
        if not items:
            return set()
        db = self._connect()
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            ids = [e.event_id for e, _ in items]
            marks = ",".join("?" * len(ids))
            known = {row[0] for row in db.execute(
                f"SELECT event_id FROM events WHERE event_id IN ({marks})", ids)}
            new = [(e, r) for e, r in items if e.event_id not in known]
            db.executemany(
                'INSERT OR IGNORE INTO events (event_id, kind, tenant, conversation_id, ts, '
                'topic, partition, "offset", payload, stored_at) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.event_id, e.kind, e.tenant, e.conversation_id, e.ts.isoformat(), r.topic,
                  r.partition, r.offset, e.model_dump_json(), now) for e, r in new])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return {e.event_id for e, _ in new}

    def count(self, kind: str | None = None) -> int:
        db = self._connect()
        if kind is None:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        return int(db.execute("SELECT COUNT(*) FROM events WHERE kind = ?",
                              (kind,)).fetchone()[0])

    def events(self, kind: str | None = None) -> Iterator[StoredEvent]:
        """Stored events in source order (topic, partition, offset)."""
        return self.events_after({}, kind)

    def events_after(self, window: dict[str, list[int]], kind: str | None = None
                     ) -> Iterator[StoredEvent]:
        """Events past ``window`` ('topic/partition' -> [first, last] offset), in source
        order; only those are decoded."""
        db = self._connect()
        query = 'SELECT payload, topic, partition, "offset" FROM events'
        args: tuple[str, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            args = (kind,)
        query += ' ORDER BY topic, partition, "offset"'
        for payload, topic, partition, offset in db.execute(query, args):
            if _past(window, topic, partition, offset):
                yield StoredEvent(decode_event(payload.encode()), topic, partition, offset)

    def count_after(self, window: dict[str, list[int]], kind: str) -> int:
        """How many events of ``kind`` lie past ``window``, without decoding any."""
        rows = self._connect().execute(
            'SELECT topic, partition, "offset" FROM events WHERE kind = ?', (kind,))
        return sum(_past(window, topic, partition, offset) for topic, partition, offset in rows)

    def positions(self) -> dict[tuple[str, int], tuple[int, int]]:
        """First and last stored offset per source partition (a refresh's data window)."""
        db = self._connect()
        return {(t, p): (lo, hi) for t, p, lo, hi in db.execute(
            'SELECT topic, partition, MIN("offset"), MAX("offset") FROM events '
            "GROUP BY topic, partition")}
