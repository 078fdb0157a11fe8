"""The judges' training data: the manifest vouches for every file, the loader reads rows as
the evaluation does, and evaluation prompts are kept out of training."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from gateway.judges.datasets import LabeledPrompt, read_dataset
from gateway.judges.taxonomy import HAZARDS
from tests.servers import DATA
from trainer.judges.data import (
    MANIFEST,
    DataError,
    Manifest,
    Source,
    counts_of,
    file_sha256,
    read_source,
)
from trainer.judges.decontaminate import content_words, decontaminate


def _rows(path: Path, rows: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return path


def _source(path: Path, **extra: object) -> Source:
    rows = read_dataset(path, "jsonl")
    counts, kinds = counts_of(rows)
    return Source(name=path.name.split(".")[0], file=path.name, format="jsonl",
                  sha256=file_sha256(path), rows=len(rows), counts=counts, kinds=kinds,
                  origin="project", license="Apache-2.0", label_mapping="as written",
                  **extra)  # type: ignore[arg-type]


def test_every_source_says_where_it_came_from_and_under_which_license() -> None:
    manifest = Manifest.load()
    names = [s.name for s in manifest.sources]
    assert len(names) == len(set(names))
    for source in manifest.sources:
        assert source.license and source.label_mapping, source.name
        assert source.rows == sum(source.counts.values()) == sum(source.kinds.values())
        if source.origin == "public":  # prepared from a public repository, reproducibly
            assert source.repository and source.commit and len(source.commit) == 40
            assert source.paths and source.prepare
            assert (MANIFEST.parents[2] / source.prepare).is_file(), source.prepare
        if source.use == "train":  # nothing non-commercial or unlicensed is trained on
            assert "NC" not in source.license and source.license != "unknown", source.name
    public = [s for s in manifest.sources if s.origin == "public" and s.use == "train"]
    assert len(public) >= 8
    languages = {key.split(":")[0] for s in manifest.sources if s.use == "train"
                 for key in s.counts}
    assert {"en", "de", "fr", "ar", "zh", "hi", "es", "it", "pt"} <= languages
    kinds = {k for s in manifest.sources if s.use == "train" for k in s.kinds}
    assert kinds == {"request", "statement", "reply"}


def test_the_files_kept_in_the_repository_match_the_manifest() -> None:
    manifest = Manifest.load()
    mine = [s for s in manifest.sources if s.origin == "project"]
    assert mine
    for source in mine:
        rows = read_source(source, [MANIFEST.parent])
        assert len(rows) == source.rows
        assert all((r.hazard in HAZARDS) == r.harmful for r in rows)


def test_a_changed_file_fails_the_check_naming_it(tmp_path: Path) -> None:
    corpus = Manifest.load().source("corpus")
    shutil.copy(MANIFEST.parent / corpus.file, tmp_path / corpus.file)
    assert read_source(corpus, [tmp_path])
    with gzip.open(tmp_path / corpus.file, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    flipped = json.loads(lines[0])
    flipped["harmful"] = not flipped["harmful"]
    with gzip.open(tmp_path / corpus.file, "wt", encoding="utf-8") as f:
        f.writelines([json.dumps(flipped, ensure_ascii=False) + "\n", *lines[1:]])
    with pytest.raises(DataError, match=f"'corpus': .*{corpus.file} has SHA-256"):
        read_source(corpus, [tmp_path])


def test_row_counts_must_match_too_and_a_missing_file_names_its_converter(tmp_path: Path
                                                                         ) -> None:
    path = _rows(tmp_path / "mine.jsonl.gz", [
        {"text": "How do I bake bread?", "harmful": False},
        {"text": "Sure, here is how to pick that lock.", "harmful": True, "hazard": "S2",
         "kind": "reply", "prompt": "How do I break into my neighbour's house?"}])
    source = _source(path, prepare="scripts/judge_data/mine.py")
    wrong = source.model_copy(update={"counts": {"en:benign": 2}})
    with pytest.raises(DataError, match="reads as 2 rows"):
        read_source(wrong, [tmp_path])
    with pytest.raises(DataError, match=r"none of .* prepare it with scripts/judge_data/mine\.py"):
        read_source(source, [tmp_path / "elsewhere"])


def test_the_loader_reads_kinds_groups_and_the_request_a_reply_answers(tmp_path: Path) -> None:
    path = _rows(tmp_path / "mine.jsonl.gz", [
        {"text": "Wir sind eine Gruppe von Muslimen.", "harmful": False, "language": "de",
         "kind": "statement", "group": "mine:7"},
        {"text": "Sure, here is how to pick that lock.", "harmful": True, "hazard": "S2",
         "kind": "reply", "prompt": "How do I break into my neighbour's house?"}])
    statement, reply = read_source(_source(path), [tmp_path])
    assert (statement.kind, statement.language, statement.group) == ("statement", "de", "mine:7")
    assert (reply.kind, reply.prompt, reply.group) == (
        "reply", "How do I break into my neighbour's house?", "mine:1")
    _rows(path, [{"text": "x y z", "harmful": False, "kind": "tweet"}])
    with pytest.raises(ValueError, match="kind 'tweet'"):
        read_dataset(path, "jsonl")


def test_content_words_ignore_the_frame_and_the_inflection() -> None:
    assert content_words("How do I kill a Python process?") == \
        content_words("What's the best way to killing python processes")
    assert content_words("What is arson?") == frozenset({"arson"})


def test_decontamination_drops_near_duplicates_of_evaluation_prompts_only() -> None:
    rows = [LabeledPrompt("What's the best way to hang a picture frame?", False),
            LabeledPrompt("How do I hang a picture frame?", False),
            LabeledPrompt("How do I bake sourdough bread?", False),
            LabeledPrompt("How do I hang wallpaper?", False)]
    kept, dropped = decontaminate(rows, ["How can I best hang a picture frame?"])
    assert [r.text for r in dropped] == [rows[0].text, rows[1].text]
    assert [r.text for r in kept] == [rows[2].text, rows[3].text]


def test_the_corpus_after_decontamination_shares_no_prompt_with_xstest() -> None:
    xstest = [r.text for r in read_dataset(DATA / "xstest_part_a.csv", "xstest")]
    corpus = read_source(Manifest.load().source("corpus"), [MANIFEST.parent])
    kept, dropped = decontaminate(corpus, xstest)
    assert 0 < len(dropped) < 0.02 * len(kept)  # a filter, not a rewrite
    exact = {" ".join(t.lower().split()) for t in xstest}
    assert not exact & {" ".join(r.text.lower().split()) for r in kept}
