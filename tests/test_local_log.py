from __future__ import annotations

from pathlib import Path

from gateway.events.local_log import LocalLog, LocalLogSource


def test_offsets_are_dense_per_topic_and_partition(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db", partitions=4)
    offsets = log.append_many([("a", b"k1", b"1"), ("a", b"k1", b"2"), ("b", b"k1", b"3")])
    assert offsets == [0, 1, 0]
    ends = log.end_offsets(["a"])
    assert sum(ends.values()) == 2 and ends[("a", log.partition_for(b"k1"))] == 2
    # The partition count is fixed when the log is created.
    assert LocalLog(tmp_path / "log.db").partitions == 4


def test_groups_read_independently_and_resume_from_commits(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db")
    for i in range(5):
        log.append("a", None, str(i).encode())
    first = LocalLogSource(tmp_path / "log.db", "g1", ["a", "b"])
    records = first.poll(max_records=3, timeout_s=0)
    assert [r.value for r in records] == [b"0", b"1", b"2"]
    first.commit({("a", 0): records[-1].offset + 1})
    assert first.lag() == {("a", 0): 2, ("b", 0): 0}
    assert [r.value for r in first.poll(timeout_s=0)] == [b"3", b"4"]
    first.seek_to_committed()  # uncommitted progress is forgotten, as after a crash
    assert [r.value for r in first.poll(timeout_s=0)] == [b"3", b"4"]
    other = LocalLogSource(tmp_path / "log.db", "g2", ["a"])
    assert len(other.poll(timeout_s=0)) == 5
    assert first.poll(timeout_s=0.1) == []


def test_dead_letters_are_kept_with_their_reason(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db")
    log.append("a", b"k", b"junk")
    source = LocalLogSource(tmp_path / "log.db", "g", ["a"])
    (record,) = source.poll(timeout_s=0)
    source.dead_letter(record, "not_json")
    (letter,) = log.dead_letters()
    assert letter["reason"] == "not_json" and letter["value"] == b"junk"
    assert (letter["topic"], letter["offset"]) == ("a", 0)
