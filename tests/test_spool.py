from __future__ import annotations

from pathlib import Path

from gateway.events.spool import DiskSpool


def _fill(spool: DiskSpool, n: int, start: int = 0) -> None:
    assert spool.append([("t", f"k{i}".encode(), f"v{i}".encode())
                         for i in range(start, start + n)])


def test_append_peek_ack_in_order(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    _fill(spool, 5)
    spool.append([("other", None, b"no key")])
    records = spool.peek(10)
    assert [(r.topic, r.key, r.value) for r in records][-1] == ("other", None, b"no key")
    assert [r.value for r in records[:5]] == [f"v{i}".encode() for i in range(5)]
    spool.ack(records[2])
    assert spool.pending() == 3
    assert spool.peek(10)[0].value == b"v3"


def test_survives_restart_and_resumes_after_the_last_ack(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64)
    _fill(spool, 20)
    spool.ack(spool.peek(7)[-1])
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20, segment_bytes=64)
    assert reopened.pending() == 13
    assert [r.value for r in reopened.peek(100)] == [f"v{i}".encode() for i in range(7, 20)]
    reopened.ack(reopened.peek(100)[-1])
    assert reopened.pending() == 0 and reopened.size_bytes() < 64
    assert len(list(tmp_path.glob("*.seg"))) == 1  # replayed segments are deleted


def test_torn_tail_is_cut_and_appends_continue(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    _fill(spool, 3)
    segment = next(tmp_path.glob("*.seg"))
    with open(segment, "ab") as f:
        f.write(b"\x00\x00\x00\x40half a rec")  # a crash in the middle of a write
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20)
    assert reopened.pending() == 3
    _fill(reopened, 1, start=3)
    assert [r.value for r in reopened.peek(10)] == [b"v0", b"v1", b"v2", b"v3"]


def test_refuses_appends_past_the_limit(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=200)
    assert spool.append([("t", None, b"x" * 100)])
    assert not spool.append([("t", None, b"x" * 100)])
    assert spool.pending() == 1
    spool.ack(spool.peek(1)[0])
    assert spool.append([("t", None, b"x" * 100)])  # space comes back once replayed
