"""The embedded event log for one machine: Kafka's model (topics, partitions, offsets,
consumer groups, a dead-letter destination) in one SQLite file in WAL mode.

Appends are durable when they return (``synchronous=FULL``). A topic's offsets are dense
and start at 0, as on Kafka, so the trainer stores the same kind of source position
whichever backend it reads.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.events.source import SourceRecord

__all__ = ["LocalLog", "LocalLogSource"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key BLOB, value BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, "offset"));
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL, committed_at REAL NOT NULL,
    PRIMARY KEY (grp, topic, partition));
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL, key BLOB, value BLOB NOT NULL, reason TEXT NOT NULL,
    created_at REAL NOT NULL);
"""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


class LocalLog:
    """The writer side (and admin view) of the log."""

    def __init__(self, path: Path, partitions: int = 1) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = _connect(self.path)
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('partitions', ?)",
                             (str(partitions),))
            self.partitions = int(self._db.execute(
                "SELECT value FROM meta WHERE name = 'partitions'").fetchone()[0])

    def partition_for(self, key: bytes | None) -> int:
        return 0 if key is None or self.partitions == 1 else zlib.crc32(key) % self.partitions

    def append(self, topic: str, key: bytes | None, value: bytes) -> int:
        """Append one record durably; return its offset."""
        return self.append_many([(topic, key, value)])[0]

    def append_many(self, records: Sequence[tuple[str, bytes | None, bytes]]) -> list[int]:
        """Append records in one durable transaction; return their offsets, in order."""
        now_ms = int(time.time() * 1000)
        offsets: list[int] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ends: dict[tuple[str, int], int] = {}
                for topic, key, value in records:
                    part = self.partition_for(key)
                    if (topic, part) not in ends:
                        ends[(topic, part)] = self._end(topic, part)
                    offset = ends[(topic, part)]
                    self._db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                                     (topic, part, offset, key, value, now_ms))
                    ends[(topic, part)] = offset + 1
                    offsets.append(offset)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return offsets

    def end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """Next offset to be written, for every partition of ``topics``."""
        with self._lock:
            return {(t, p): self._end(t, p) for t in topics for p in range(self.partitions)}

    def dead_letter(self, topic: str, partition: int, offset: int, key: bytes | None,
                    value: bytes, reason: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO dead_letters (topic, partition, \"offset\", key, "
                             "value, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (topic, partition, offset, key, value, reason, time.time()))

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT topic, partition, \"offset\", key, value, reason, "
                                    "created_at FROM dead_letters ORDER BY id").fetchall()
        names = ("topic", "partition", "offset", "key", "value", "reason", "created_at")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[SourceRecord]:
        """Records of one partition from ``offset`` on, at most ``limit``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT \"offset\", key, value, timestamp_ms FROM records WHERE topic = ? "
                "AND partition = ? AND \"offset\" >= ? ORDER BY \"offset\" LIMIT ?",
                (topic, partition, offset, limit)).fetchall()
        return [SourceRecord(topic, partition, o, k, v, ts) for o, k, v, ts in rows]

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Durably record a consumer group's next offsets."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO group_offsets VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                "(grp, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, "
                "committed_at = excluded.committed_at",
                [(group, t, p, o, now) for (t, p), o in offsets.items()])
            self._db.execute("COMMIT")

    def committed(self, group: str, topic: str, partition: int) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT next_offset FROM group_offsets WHERE grp = ? AND topic = ? AND "
                "partition = ?", (group, topic, partition)).fetchone()
        return None if row is None else int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _end(self, topic: str, partition: int) -> int:
        row = self._db.execute("SELECT MAX(\"offset\") FROM records WHERE topic = ? AND "
                               "partition = ?", (topic, partition)).fetchone()
        return 0 if row[0] is None else row[0] + 1


class LocalLogSource:
    """A consumer-group reader of the log, with :class:`~gateway.events.source.EventSource`'s
    interface. Positions start at the group's committed offsets (0 for a new group)."""

    _POLL_INTERVAL_S = 0.05

    def __init__(self, log_path: Path, group: str, topics: Sequence[str]) -> None:
        self.log = LocalLog(log_path)
        self.group = group
        self.topics = list(topics)
        self._positions: dict[tuple[str, int], int] = {}
        self.seek_to_committed()

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[SourceRecord]:
        deadline = time.monotonic() + timeout_s
        while True:
            records = self._read(max_records)
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(self._POLL_INTERVAL_S)

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if offsets:
            self.log.commit(self.group, offsets)

    def committed(self, topic: str, partition: int) -> int | None:
        return self.log.committed(self.group, topic, partition)

    def seek_to_committed(self) -> None:
        """Forget uncommitted progress, as a restarted consumer would."""
        self._positions = {(t, p): self.committed(t, p) or 0
                           for t in self.topics for p in range(self.log.partitions)}

    def lag(self) -> dict[tuple[str, int], int]:
        ends = self.log.end_offsets(self.topics)
        return {tp: end - (self.committed(*tp) or 0) for tp, end in ends.items()}

    def dead_letter(self, record: SourceRecord, reason: str) -> None:
        self.log.dead_letter(record.topic, record.partition, record.offset, record.key,
                             record.value, reason)

    def close(self) -> None:
        self.log.close()

    def _read(self, limit: int) -> list[SourceRecord]:
        out: list[SourceRecord] = []
        for (topic, partition), position in self._positions.items():
            if len(out) >= limit:
                break
            out += self.log.read(topic, partition, position, limit - len(out))
        for record in out:
            self._positions[(record.topic, record.partition)] = record.offset + 1
        return out
