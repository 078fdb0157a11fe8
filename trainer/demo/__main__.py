"""``python -m trainer.demo``: build the demo model, write its held-out sets, print traffic."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trainer.demo.check import BehaviourError
from trainer.demo.corpus import traffic_prompts, write_heldout
from trainer.demo.model import build_demo_model, default_model_dir, read_manifest

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The demo world: a small model that shows Vigil's failure modes.")


@app.command()
def build(
    directory: Path | None = typer.Argument(None, help="Where the model goes (default: "
                                            "~/.cache/vigil/models/demo)."),
    threads: int | None = typer.Option(None, min=1, help="Torch threads for training."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Build the demo model (once: a cached build with the same fingerprint is reused)."""
    target = directory or default_model_dir()
    try:
        path = build_demo_model(target, progress=not quiet, threads=threads)
    except BehaviourError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    manifest = read_manifest(path) or {}
    report = manifest.get("heldout", {})
    typer.echo(f"demo model ready at {path} (built in {manifest.get('build_seconds')} s)")
    for mode, values in report.items():
        typer.echo(f"  {mode:<14} harmful compliance {values['harmful_compliance_rate']}, "
                   f"over-refusal {values['over_refusal_rate']}, "
                   f"reasoning drift {values['mixing_rate']}")


@app.command()
def heldout(directory: Path = typer.Argument(..., help="Where harmful.txt and benign.txt go.")
            ) -> None:
    """Write the held-out evaluation sets (for `vigil eval model` and the release gate)."""
    harmful, benign = write_heldout(directory)
    typer.echo(f"{harmful}\n{benign}")


@app.command()
def traffic(n: int = typer.Argument(..., min=0), seed: int = typer.Option(0)) -> None:
    """Print N traffic prompts as JSON lines ({"prompt": ...})."""
    for prompt in traffic_prompts(n, seed):
        typer.echo(json.dumps({"prompt": prompt}, ensure_ascii=False))


if __name__ == "__main__":
    app()
