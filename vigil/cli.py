"""The ``vigil`` command: every service and tool, composed from each package's commands, and
``vigil up``, the launcher that runs the whole loop on one machine. This package is the top
of the dependency chain (adapter ← gateway ← trainer ← vigil): nothing imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from adapter.logs import configure_logging
from gateway import cli as gateway_cli
from gateway.judges import cli as gateway_judges
from trainer import cli as trainer_cli
from trainer.judges import cli as trainer_judges
from vigil.supervisor import Supervisor
from vigil.up import plan_up

__all__ = ["app", "main"]

app = typer.Typer(help="Vigil: a safety-monitoring gateway for served LLMs, with online "
                  "adaptation.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(gateway_cli.app)  # engine, gateway, eval, adapters
app.add_typer(trainer_cli.app)  # trainer, consume, demo
judges = typer.Typer(help="The judges: build, measure, adapt from labels, version.",
                     no_args_is_help=True)
judges.add_typer(trainer_judges.judges_app)  # train, loso, adapt, data
judges.add_typer(gateway_judges.judges_app)  # list, show, promote, rollback
app.add_typer(judges, name="judges")


@app.command()
def up(
    model: str = typer.Option("demo", help="'demo' (a small model built here once, showing "
                              "the failure modes Vigil fixes), a local path, or a hub id."),
    port: int = typer.Option(8080, help="Gateway port (the OpenAI base URL's port)."),
    host: str = typer.Option("127.0.0.1", help="Gateway address."),
    data_dir: Path = typer.Option(Path("vigil-data"), help="Events, dataset store, adapter "
                                  "registry and the generated config live here."),
    alias: str = typer.Option("vigil", help="Public model name clients ask for."),
    config: Path | None = typer.Option(None, help="YAML config merged over up's defaults."),
) -> None:
    """Run the whole loop on this machine: engine, gateway (judges, events, rollout) and
    trainer, as one supervised process tree. Ctrl-C stops everything."""
    from trainer.demo import (
        build_demo_model,
        default_model_dir,
        recommended_trainer_settings,
        write_heldout,
    )
    from trainer.demo.model import read_manifest

    configure_logging("info", service="vigil-up")
    # The release gate measures candidates on the demo world's held-out prompts (harmful
    # requests, benign look-alikes) unless the user's config names other files.
    harmful, benign = write_heldout(data_dir / "gate")
    defaults: dict[str, Any] = {"trainer": {"gate": {"harmful_prompts": str(harmful),
                                                     "benign_prompts": str(benign)}}}
    if model == "demo":
        model = str(build_demo_model(default_model_dir(), progress=True))
    if read_manifest(Path(model)) is not None:  # a demo model (built by trainer.demo)
        # One engine and demo traffic: short canary steps, so a cycle takes minutes.
        defaults = {"trainer": recommended_trainer_settings(harmful, benign),
                    "rollout": {"steps": [50, 100], "min_requests": 10}}
    plan = plan_up(model=model, data_dir=data_dir, host=host, port=port, alias=alias,
                   user_config=config, model_defaults=defaults)

    def announce() -> None:
        console = Console(stderr=True, soft_wrap=True)
        console.print(
            f"\n[bold green]Vigil is up.[/] OpenAI base URL: [bold]{plan.base_url}[/]  "
            f"model: [bold]{plan.alias}[/]\n"
            f"  metrics: {plan.metrics_urls['gateway']} (gateway), "
            f"{plan.metrics_urls['trainer']} (trainer); config: {plan.config_file}\n"
            f"  from openai import OpenAI\n"
            f"  print(OpenAI(base_url='{plan.base_url}', api_key='none').chat.completions"
            f".create(model='{plan.alias}', messages=[{{'role': 'user', 'content': 'Hi'}}])"
            f".choices[0].message.content)\n"
            f"Then `vigil demo --base-url {plan.base_url}` drives traffic through the loop. "
            "Ctrl-C stops everything.")

    raise typer.Exit(Supervisor(plan.services).run(on_ready=announce))



def main() -> None:
    app()
