"""An append-only, fsync'd disk spool for events the broker could not take.

Records live in segment files, each framed as ``length | crc32 | payload`` so a write torn by
a crash is detected and cut off at the last whole record on the next open. How far the spool
has been replayed is a small position file replaced atomically (write, fsync, rename), so a
restart resumes exactly where delivery stopped; fully replayed segments are deleted.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapter.durable import fsync_dir

__all__ = ["DiskSpool", "SpoolRecord"]

log = logging.getLogger(__name__)

_FRAME = struct.Struct(">II")  # payload length, crc32 of payload
_FIELDS = struct.Struct(">HI")  # topic length, key length (0xFFFFFFFF = no key)
_NO_KEY = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    topic: str
    key: bytes | None
    value: bytes
    segment: int
    end: int  # byte offset just past this record in its segment


def _encode(topic: str, key: bytes | None, value: bytes) -> bytes:
    name = topic.encode()
    payload = (_FIELDS.pack(len(name), _NO_KEY if key is None else len(key)) + name
               + (key or b"") + value)
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _decode(payload: bytes) -> tuple[str, bytes | None, bytes]:
    topic_len, key_len = _FIELDS.unpack_from(payload)
    at = _FIELDS.size
    topic = payload[at:at + topic_len].decode()
    at += topic_len
    if key_len == _NO_KEY:
        return topic, None, payload[at:]
    return topic, payload[at:at + key_len], payload[at + key_len:]



class DiskSpool:
    """Thread-safe: appended from the sender thread (or a request on queue overflow), read
    and acknowledged by the sender thread."""

    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int = 16 << 20) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._position_file = self.directory / "position"
        self._segment, self._offset = self._read_position()
        self._repair_tail()
        self._pending = sum(1 for _ in self._scan(self._segment, self._offset))

    # ---------------------------------------------------------------- public

    def append(self, records: Sequence[tuple[str, bytes | None, bytes]]) -> bool:
        """Append durably; False (and nothing written) if it would pass ``max_bytes``."""
        data = b"".join(_encode(t, k, v) for t, k, v in records)
        with self._lock:
            if self._size_bytes() + len(data) > self.max_bytes:
                return False
            segments = self._segments()
            active = segments[-1] if segments else self._segment
            path = self._path(active)
            if path.exists() and path.stat().st_size >= self.segment_bytes:
                active += 1
                path = self._path(active)
            with open(path, "ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if not segments or active != segments[-1]:
                fsync_dir(self.directory)
            self._pending += len(records)
            return True

    def peek(self, limit: int) -> list[SpoolRecord]:
        """The oldest unacknowledged records, in append order."""
        with self._lock:
            records = []
            for record in self._scan(self._segment, self._offset):
                records.append(record)
                if len(records) >= limit:
                    break
            return records

    def ack(self, record: SpoolRecord) -> None:
        """Everything up to and including ``record`` was delivered."""
        with self._lock:
            acked = sum(1 for _ in self._scan(self._segment, self._offset,
                                              stop=(record.segment, record.end)))
            self._write_position(record.segment, record.end)
            self._pending -= acked
            for segment in self._segments():
                if segment < record.segment:
                    self._path(segment).unlink(missing_ok=True)

    def pending(self) -> int:
        return self._pending

    def size_bytes(self) -> int:
        with self._lock:
            return self._size_bytes()

    # ---------------------------------------------------------------- internals

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}.seg"

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.seg"))

    def _size_bytes(self) -> int:
        total = 0
        for segment in self._segments():
            size = self._path(segment).stat().st_size
            total += size - (self._offset if segment == self._segment else 0)
        return total

    def _read_position(self) -> tuple[int, int]:
        try:
            segment, offset = self._position_file.read_text().split()
            return int(segment), int(offset)
        except FileNotFoundError:
            segments = self._segments()
            return (segments[0] if segments else 0), 0

    def _write_position(self, segment: int, offset: int) -> None:
        tmp = self._position_file.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(f"{segment} {offset}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._position_file)
        fsync_dir(self.directory)
        self._segment, self._offset = segment, offset

    def _repair_tail(self) -> None:
        """Cut a record torn by a crash off the end of the last segment."""
        segments = self._segments()
        if not segments:
            return
        path = self._path(segments[-1])
        start = self._offset if segments[-1] == self._segment else 0
        good = start
        for record in self._scan(segments[-1], start, single=True):
            good = record.end
        size = path.stat().st_size
        if good < size:
            log.warning("spool: cutting a torn record off the tail",
                        extra={"segment": path.name, "bytes": size - good})
            with open(path, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())

    def _scan(self, segment: int, offset: int, *, stop: tuple[int, int] | None = None,
              single: bool = False) -> Iterator[SpoolRecord]:
        for seg in self._segments():
            if seg < segment or (single and seg != segment):
                continue
            path = self._path(seg)
            with open(path, "rb") as f:
                at = offset if seg == segment else 0
                f.seek(at)
                while True:
                    if stop is not None and (seg, at) >= stop:
                        return
                    header = f.read(_FRAME.size)
                    if len(header) < _FRAME.size:
                        break
                    length, crc = _FRAME.unpack(header)
                    payload = f.read(length)
                    if len(payload) < length or zlib.crc32(payload) != crc:
                        break
                    at += _FRAME.size + length
                    topic, key, value = _decode(payload)
                    yield SpoolRecord(topic, key, value, seg, at)
