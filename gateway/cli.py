"""The ``vigil`` command line."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from adapter.logs import configure_logging
from gateway.adapters_cli import adapters_app
from gateway.judges.cli import eval_app, judges_app

__all__ = ["app"]

app = typer.Typer(help="Vigil: a safety-monitoring gateway for served LLMs.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(stderr=True)
app.add_typer(judges_app, name="judges")
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
    uvicorn.run(build_app(settings), host=settings.server.host, port=settings.server.port,
                log_config=None, access_log=False, loop="uvloop", http="httptools")


@app.command()
def up(
    model: str = typer.Option(..., help="Local path or hub id of the model to serve."),
    port: int = typer.Option(8080, help="Gateway port (the OpenAI base URL's port)."),
    host: str = typer.Option("127.0.0.1", help="Gateway address."),
    alias: str = typer.Option("vigil", help="Public model name clients ask for."),
    config: Path | None = typer.Option(None, help="Gateway YAML config file."),
    reasoning_parser: str | None = typer.Option("deepseek_r1",
                                                help="Reasoning parser of the engine."),
) -> None:
    """Start the embedded engine and the gateway as one supervised process tree."""
    from gateway.supervisor import Service, Supervisor

    configure_logging("info", service="vigil-up")
    engine_port = _free_port()
    engine_argv = [sys.executable, "-m", "gateway", "engine", "--model", model,
                   "--port", str(engine_port), "--served-model-name", alias + "-base"]
    if reasoning_parser:
        engine_argv += ["--reasoning-parser", reasoning_parser]
    gateway_argv = [sys.executable, "-m", "gateway", "gateway",
                    "--upstream", f"http://127.0.0.1:{engine_port}",
                    "--host", host, "--port", str(port), "--alias", f"{alias}={alias}-base"]
    if config:
        gateway_argv += ["--config", str(config)]
    base_url = f"http://{host}:{port}/v1"

    def announce() -> None:
        console.print(f"\n[bold green]Vigil is up.[/] OpenAI base URL: [bold]{base_url}[/]"
                      f"  model: [bold]{alias}[/]  metrics: http://{host}:{port}/metrics\n"
                      f"  from openai import OpenAI\n"
                      f"  print(OpenAI(base_url='{base_url}', api_key='none').chat.completions"
                      f".create(model='{alias}', messages=[{{'role': 'user', 'content': 'Hi'}}])"
                      f".choices[0].message.content)\n"
                      "Ctrl-C stops everything.")

    services = [
        Service("engine", engine_argv, f"http://127.0.0.1:{engine_port}/health"),
        Service("gateway", gateway_argv, f"http://{host}:{port}/healthz"),
    ]
    raise typer.Exit(Supervisor(services).run(on_ready=announce))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    app()
