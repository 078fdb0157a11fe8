"""The gateway's commands: ``vigil engine``, ``vigil gateway``, ``vigil eval``, ``vigil adapters``
and the judges' versions (the ``vigil`` command composes them with the others: vigil/cli.py)."""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from adapter.logs import configure_logging
from gateway.adapters_cli import adapters_app
from gateway.judges.cli import eval_app

__all__ = ["app"]

app = typer.Typer(help="The Vigil gateway and its embedded engine.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(stderr=True)
app.add_typer(eval_app, name="eval")
app.add_typer(adapters_app, name="adapters")


def _parse_pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name or not target:
            raise typer.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
        pairs[name] = target
    return pairs


@app.command()
def engine(
    model: str = typer.Option(..., help="Local path or hub id of a causal LM."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    lora: list[str] = typer.Option([], help="NAME=PATH of a LoRA adapter to load at start."),
    served_model_name: str | None = typer.Option(None, help="Name of the base model."),
    reasoning_parser: str | None = typer.Option(
        None, help="'deepseek_r1' to return <think> text as reasoning_content."),
    max_lora_rank: int = typer.Option(64, help="Largest LoRA rank accepted."),
    device: str | None = typer.Option(None, help="cpu or cuda (default: auto)."),
    log_level: str = typer.Option("info"),
) -> None:
    """Run the embedded serving engine (vLLM's OpenAI API subset, runtime LoRA)."""
    from adapter.engine.server import EngineSettings, build_engine_app

    configure_logging(log_level, service="engine")
    settings = EngineSettings(model=model, served_model_name=served_model_name,
                              loras=_parse_pairs(lora, "--lora"), reasoning_parser=reasoning_parser,
                              max_lora_rank=max_lora_rank, device=device)
    uvicorn.run(build_engine_app(settings), host=host, port=port, log_config=None,
                access_log=False)


@app.command()
def gateway(
    upstream: str | None = typer.Option(None, help="Serving engine base URL."),
    config: Path | None = typer.Option(None, help="YAML config file (see vigil.example.yaml)."),
    host: str | None = typer.Option(None, help="Address to listen on."),
    port: int | None = typer.Option(None, help="Port to listen on."),
    alias: list[str] = typer.Option([], help="NAME=UPSTREAM: serve an upstream model or "
                                             "adapter under a public name (adds to config)."),
) -> None:
    """Run the OpenAI-compatible safety gateway."""
    from gateway.app import build_app
    from gateway.auth import OpenAccessError
    from gateway.moderation import one_blas_thread
    from gateway.settings import load_settings

    overrides: dict[str, dict[str, object]] = {}
    if alias:
        overrides["models"] = {name: {"upstream": target}
                               for name, target in _parse_pairs(alias, "--alias").items()}
    if upstream:
        overrides["upstream"] = {"url": upstream}
    server = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if server:
        overrides["server"] = server
    settings = load_settings(config, **overrides)
    configure_logging(settings.server.log_level, service="gateway")
    one_blas_thread()
    try:
        gateway_app = build_app(settings)
    except OpenAccessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(gateway_app, host=settings.server.host, port=settings.server.port,
                log_config=None, access_log=False, loop="uvloop", http="httptools")


def main() -> None:
    app()
