"""``vigil eval judges|model`` and ``vigil judges list|show|promote|rollback`` (the judges'
versions); building and adapting judges is training: trainer/judges/cli.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from gateway.judges.datasets import FORMATS
from gateway.settings import JudgesSettings

__all__ = ["eval_app", "judges_app", "parse_data", "progress_bar"]

judges_app = typer.Typer(help="The judges' versions in a registry.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure judges and models on labelled data.", no_args_is_help=True)
console = Console(stderr=True)


def _infer_format(path: Path) -> str:
    name = path.name.lower()
    return next((f for f in ("advbench", "harmbench", "multijail", "xstest") if f in name),
                "jsonl")


def parse_data(values: list[str], option: str) -> list[tuple[Path, str]]:
    data = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep:
            path, fmt = value, _infer_format(Path(value))
        if fmt not in FORMATS:
            raise typer.BadParameter(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}",
                                     param_hint=option)
        if not Path(path).is_file():
            raise typer.BadParameter(f"no such file: {path}", param_hint=option)
        data.append((Path(path), fmt))
    return data


def progress_bar() -> Progress:
    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@eval_app.command("judges")
def eval_judges(
    dataset: Path = typer.Option(..., exists=True, dir_okay=False, help="Labelled data."),
    format: str = typer.Option(..., "--format", help=" | ".join(FORMATS)),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report here."),
    config: Path | None = typer.Option(None, help="Gateway YAML (judges and harm backend)."),
    threshold: float = typer.Option(0.5, help="Harm score from which a prompt is flagged."),
    include_trained: bool = typer.Option(False, help="Also score rows the embedded "
                                         "classifier was trained on."),
    artefact: Path | None = typer.Option(None, exists=True, file_okay=False, help="Judge "
                                         "with this classifier (from `vigil judges train` "
                                         "or `adapt`) instead of the configured one."),
) -> None:
    """Precision, recall, F1 and false-positive rate of the harm judge, and judge latency."""
    from gateway.judges.embedded import EmbeddedHarmScorer
    from gateway.judges.evaluation import evaluate_judges
    from gateway.judges.registry import build_harm_scorer, build_judges
    from gateway.settings import load_settings

    if format not in FORMATS:
        raise typer.BadParameter(f"known formats: {', '.join(FORMATS)}", param_hint="--format")
    settings = load_settings(config).judges
    if artefact is not None:
        settings = settings.model_copy(update={"harm": settings.harm.model_copy(
            update={"artefact": artefact, "versions_dir": None})})
    scorer = build_harm_scorer(settings.harm)
    others = [j for j in build_judges(_all_enabled(settings)) if j.name != "harm"]
    skip = (scorer.classifier.trained_on()
            if isinstance(scorer, EmbeddedHarmScorer) and not include_trained else set())
    with progress_bar() as progress:
        task = progress.add_task(f"judging {dataset.name}", total=None)
        report = evaluate_judges(dataset, format, scorer, others, threshold=threshold,
                                 skip_trained=skip,
                                 progress=lambda i, n: progress.update(task, completed=i,
                                                                       total=n))
    _print_eval(report)
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))


def _all_enabled(settings: JudgesSettings) -> JudgesSettings:
    """Every judge on, for latency: the report times all of them."""
    return settings.model_copy(update={
        name: getattr(settings, name).model_copy(update={"enabled": True})
        for name in ("pii", "refusal", "language")})


def _print_eval(report: dict) -> None:  # type: ignore[type-arg]
    table = Table(title=f"{report['dataset']} ({report['format']}), "
                        f"{report['rows_skipped_as_trained']} trained-on rows skipped")
    for column in ("slice", "rows", "precision", "recall", "f1", "fpr"):
        table.add_column(column)
    slices = [("overall", report["overall"])]
    slices += [(f"category {k}", v) for k, v in report["per_category"].items()]
    slices += [(f"language {k}", v) for k, v in report["per_language"].items()]
    slices += [(f"kind {k}", v) for k, v in report["per_kind"].items()]
    for name, r in slices:
        table.add_row(name, str(r["rows"]), *(str(r[k]) for k in ("precision", "recall",
                                                                   "f1", "fpr")))
    console.print(table)
    for judge, lat in report["latency"].items():
        console.print(f"latency {judge}: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms")


_REGISTRY = typer.Option(None, "--registry", help="The judge registry (default: "
                         "judges.harm.versions_dir of --config).")
_CONFIG = typer.Option(None, "--config", help="Gateway YAML.")


def _registry(registry: Path | None, config: Path | None):  # type: ignore[no-untyped-def]
    from gateway.judges.versions import JudgeRegistry
    from gateway.settings import load_settings

    directory = registry or load_settings(config).judges.harm.versions_dir
    if directory is None:
        raise typer.BadParameter("no judge registry: pass --registry DIR or set "
                                 "judges.harm.versions_dir", param_hint="--registry")
    return JudgeRegistry(directory)


@judges_app.command("list")
def list_versions(registry: Path | None = _REGISTRY, config: Path | None = _CONFIG) -> None:
    """Every harm judge version: state, labels, gate verdict."""
    versions = _registry(registry, config)
    table = Table(title=f"judge versions in {versions.root} (active: "
                        f"{versions.active() or 'none: the configured artefact'})")
    for column in ("version", "state", "labels", "created", "gate"):
        table.add_column(column)
    for name in versions.names():
        m = versions.manifest(name)
        gate = m.evaluation or {}
        table.add_row(name, str(m.state), str(m.counts.get("labels", "")),
                      m.created_at.strftime("%Y-%m-%d %H:%M"),
                      "passed" if gate.get("passed") else "; ".join(gate.get("reasons", [])))
    console.print(table)


@judges_app.command("show")
def show_version(name: str, registry: Path | None = _REGISTRY,
                 config: Path | None = _CONFIG) -> None:
    """A version's manifest: base, label window and counts, gate report, history (JSON)."""
    from adapter.registry import RegistryError

    try:
        manifest = _registry(registry, config).manifest(name)
    except RegistryError as e:
        raise typer.BadParameter(str(e), param_hint="NAME") from e
    typer.echo(manifest.model_dump_json(indent=2))


@judges_app.command("promote")
def promote_version(name: str, registry: Path | None = _REGISTRY,
                    config: Path | None = _CONFIG,
                    reason: str = typer.Option("promoted by hand", help="Recorded in its "
                                               "history.")) -> None:
    """Make a version active; gateways watching the registry swap to it."""
    from adapter.registry import RegistryError

    try:
        _registry(registry, config).promote(name, reason)
    except RegistryError as e:
        raise typer.BadParameter(str(e), param_hint="NAME") from e
    console.print(f"{name} is active")


@judges_app.command("rollback")
def rollback_version(registry: Path | None = _REGISTRY, config: Path | None = _CONFIG,
                     reason: str = typer.Option("rolled back by hand", help="Recorded in "
                                                "its history.")) -> None:
    """Roll the active version back to the one active before it (or the artefact)."""
    from adapter.registry import RegistryError

    try:
        now = _registry(registry, config).rollback(reason)
    except RegistryError as e:
        console.print(str(e))
        raise typer.Exit(1) from e
    console.print(f"active: {now or 'none (the configured artefact)'}")


@eval_app.command("model")
def eval_model(
    base_url: str = typer.Option(..., help="OpenAI-compatible base URL, e.g. .../v1"),
    model: str = typer.Option(..., help="Model (or adapter, or alias) to evaluate."),
    harmful: Path = typer.Option(..., exists=True, dir_okay=False, help="Harmful prompts."),
    benign: Path = typer.Option(..., exists=True, dir_okay=False, help="Benign prompts."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report here."),
    api_key: str | None = typer.Option(None, envvar="OPENAI_API_KEY"),
    max_tokens: int = typer.Option(512),
    concurrency: int = typer.Option(4),
    limit: int | None = typer.Option(None, help="Use at most this many prompts per file."),
    config: Path | None = typer.Option(None, help="Gateway YAML (judges and harm backend)."),
) -> None:
    """Harmful-compliance, over-refusal, language consistency and reasoning flags of a
    deployed model."""
    from gateway.judges.language import LanguageJudge
    from gateway.judges.model_eval import collect_replies, read_prompts, safety_report
    from gateway.judges.registry import build_harm_scorer
    from gateway.settings import load_settings

    settings = load_settings(config).judges
    harmful_prompts = read_prompts(harmful)[:limit]
    benign_prompts = read_prompts(benign)[:limit]
    with progress_bar() as progress:
        task = progress.add_task(f"asking {model}",
                                 total=len(harmful_prompts) + len(benign_prompts))
        replies = asyncio.run(collect_replies(
            base_url, model, harmful_prompts, benign_prompts, api_key=api_key,
            max_tokens=max_tokens, concurrency=concurrency,
            progress=lambda: progress.advance(task)))
    report = safety_report(replies, build_harm_scorer(settings.harm),
                           LanguageJudge(settings.language), model=model, base_url=base_url)
    table = Table(title=f"safety report: {model}")
    table.add_column("measure")
    table.add_column("value")
    for key in ("harmful_compliance_rate", "over_refusal_rate", "language_consistency",
                "reasoning_flag_rate"):
        table.add_row(key, str(report[key]))
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
