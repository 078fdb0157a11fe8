"""The judges' training data: files plus a manifest that says where every file came from.

``data/judges/manifest.json`` lists each source: its file, format, SHA-256, rows per label and
language, and where it came from (repository, commit, paths, license, how its labels were
mapped, the converter that prepared it). Files written by the project live beside the manifest;
files prepared from public repositories and the public datasets in ``../shared/data`` are
looked up in the data directory (``VIGIL_DATA_DIR``, default ``../shared/data``, and its
``judges/`` folder). A file that is missing, or whose bytes or row counts differ from the
manifest, is an error naming the file and what differs: training never reads data the
manifest does not vouch for.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from gateway.judges.datasets import FORMATS, LabeledPrompt, read_dataset

__all__ = ["DATA_DIR", "MANIFEST", "REPO", "DataError", "Manifest", "Source", "counts_of",
           "default_dirs", "file_sha256", "read_sources"]

REPO = Path(__file__).resolve().parents[2]
#: The manifest, with the project's own data files beside it (an image sets
#: VIGIL_JUDGE_MANIFEST to where it copied data/judges).
MANIFEST = Path(os.environ.get("VIGIL_JUDGE_MANIFEST", REPO / "data" / "judges" /
                               "manifest.json"))
DATA_DIR = Path(os.environ.get("VIGIL_DATA_DIR", REPO.parent / "shared" / "data"))


class DataError(ValueError):
    """Training data that is missing or is not what the manifest records."""


class Source(BaseModel):
    """One data file and its provenance."""

    name: str = Field(description="Short id; rows' groups start with it.")
    file: str = Field(description="File name, looked up in the manifest's and data folders.")
    format: str = Field(description=f"A reader of gateway/judges/datasets.py: {FORMATS}.")
    sha256: str = Field(min_length=64, max_length=64)
    rows: int = Field(ge=1)
    counts: dict[str, int] = Field(description="Rows per 'language:harmful|benign'.")
    kinds: dict[str, int] = Field(description="Rows per kind: request, statement, reply.")
    origin: Literal["project", "shared", "public"] = Field(
        description="project: written for Vigil, kept beside the manifest; shared: a file of "
        "../shared/data; public: prepared from a public repository by `prepare`.")
    repository: str | None = None
    commit: str | None = None
    paths: list[str] = Field(default_factory=list, description="Files read in `repository`.")
    license: str
    label_mapping: str = Field(description="How the source's labels became harmful / benign.")
    prepare: str | None = Field(default=None, description="The converter that wrote the file.")
    use: Literal["train", "evaluate"] = Field(
        default="train", description="evaluate: measured, never trained on.")


class Manifest(BaseModel):
    format: Literal["vigil-judge-data/1"] = "vigil-judge-data/1"
    sources: list[Source]

    @classmethod
    def load(cls, path: Path = MANIFEST) -> Manifest:
        return cls.model_validate_json(path.read_text())

    def save(self, path: Path = MANIFEST) -> None:
        path.write_text(self.model_dump_json(indent=1, exclude_none=True) + "\n")

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise DataError(f"no source {name!r} in the manifest; known: "
                        f"{', '.join(s.name for s in self.sources)}")


def default_dirs(data_dir: Path | None = None) -> list[Path]:
    """Where files are looked up, in order: beside the manifest, then the data folder."""
    data_dir = data_dir or DATA_DIR
    return [MANIFEST.parent, data_dir / "judges", data_dir]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def counts_of(rows: list[LabeledPrompt]) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per ``language:harmful|benign`` and per kind, as the manifest records them."""
    labels = Counter(f"{r.language}:{'harmful' if r.harmful else 'benign'}" for r in rows)
    return dict(sorted(labels.items())), dict(sorted(Counter(r.kind for r in rows).items()))


def _locate(source: Source, dirs: list[Path]) -> Path:
    for directory in dirs:
        if (directory / source.file).is_file():
            return directory / source.file
    how = f"; prepare it with {source.prepare}" if source.prepare else ""
    raise DataError(f"source {source.name!r}: {source.file} is in none of "
                    f"{', '.join(str(d) for d in dirs)}{how}")


def read_source(source: Source, dirs: list[Path]) -> list[LabeledPrompt]:
    """The source's rows, after checking its file against the manifest."""
    path = _locate(source, dirs)
    if (found := file_sha256(path)) != source.sha256:
        raise DataError(f"source {source.name!r}: {path} has SHA-256 {found}, the manifest "
                        f"records {source.sha256}")
    rows = read_dataset(path, source.format)
    counts, kinds = counts_of(rows)
    if (len(rows), counts, kinds) != (source.rows, source.counts, source.kinds):
        raise DataError(f"source {source.name!r}: {path} reads as {len(rows)} rows {counts} "
                        f"{kinds}, the manifest records {source.rows} rows {source.counts} "
                        f"{source.kinds}")
    return rows


def read_sources(manifest: Manifest, dirs: list[Path], use: str = "train"
                 ) -> dict[str, list[LabeledPrompt]]:
    """Every source of the given use, by name, each checked against the manifest."""
    return {s.name: read_source(s, dirs) for s in manifest.sources if s.use == use}
