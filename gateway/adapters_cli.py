"""``vigil adapters``: the rollout's admin API from the shell (list, show, promote, rollback,
pin). Talks to a running gateway with an admin key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from adapter.protocol import RolloutStatus

__all__ = ["adapters_app"]

adapters_app = typer.Typer(help="Adapters and their rollout on a running gateway "
                                "(admin key required).", no_args_is_help=True)
console = Console()

_URL = typer.Option("http://127.0.0.1:8080", "--url", envvar="VIGIL_GATEWAY_URL",
                    help="The gateway's base URL.")
_KEY = typer.Option(None, "--admin-key", envvar="VIGIL_ADMIN_KEY",
                    help="An admin key (auth.admin_keys); not needed on an open gateway.")


def _call(method: str, url: str, key: str | None, path: str,
          body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.request(method, url.rstrip("/") + path, json=body, headers=headers,
                                 timeout=600.0)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach the gateway at {url}: {exc}[/]")
        raise typer.Exit(2) from None
    data = response.json()
    if response.status_code != 200:
        message = data.get("error", {}).get("message", response.text)
        console.print(f"[red]{response.status_code}: {message}[/]")
        raise typer.Exit(1)
    return data


def _print_status(data: dict[str, Any]) -> None:
    status = RolloutStatus.model_validate(data)
    canary = (f"  canary [bold]{status.canary}[/] at {status.percent}%" if status.canary
              else "")
    console.print(f"alias [bold]{status.alias}[/] → active [bold]{status.stable}[/]{canary}"
                  f"{'  [yellow](pinned)[/]' if status.pinned else ''}"
                  f"{'' if status.leader else '  [dim](this gateway follows)[/]'}")
    table = Table("adapter", "state", "parent", "gate", "loaded on")
    for a in status.adapters:
        gate = {True: "pass", False: "fail", None: "-"}[a.gate_passed]
        table.add_row(a.name, a.state or "-", a.parent or "-", gate,
                      f"{len(a.loaded_on)}/{len(status.replicas)}")
    console.print(table)
    for r in status.replicas:
        console.print(f"  replica {r.url}: {'up' if r.up else '[red]down[/]'}, "
                      f"{len(r.models)} models")


@adapters_app.command("list")
def list_adapters(url: str = _URL, admin_key: str | None = _KEY) -> None:
    """Every adapter in the registry, its state, and what serves the alias now."""
    _print_status(_call("GET", url, admin_key, "/admin/adapters"))


@adapters_app.command()
def show(name: str, url: str = _URL, admin_key: str | None = _KEY) -> None:
    """One adapter's manifest (stages, data window, evaluation, state history) as JSON."""
    console.print_json(json.dumps(_call("GET", url, admin_key, f"/admin/adapters/{name}")))


@adapters_app.command()
def promote(name: str, url: str = _URL, admin_key: str | None = _KEY) -> None:
    """Make NAME active now, skipping the remaining canary steps."""
    _print_status(_call("POST", url, admin_key, f"/admin/adapters/{name}/promote"))


@adapters_app.command()
def rollback(reason: str = typer.Option("", help="Recorded in the manifest."),
             url: str = _URL, admin_key: str | None = _KEY) -> None:
    """End the canary; with none, restore the adapter the active one replaced."""
    _print_status(_call("POST", url, admin_key, "/admin/adapters/rollback",
                        {"reason": reason}))


@adapters_app.command()
def pin(off: bool = typer.Option(False, "--off", help="Resume automatic advancing."),
        url: str = _URL, admin_key: str | None = _KEY) -> None:
    """Stop the canary's automatic advancing (a regression still rolls it back)."""
    _print_status(_call("POST", url, admin_key, "/admin/adapters/pin", {"pinned": not off}))
