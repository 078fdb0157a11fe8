"""The trainer's commands: ``vigil trainer``, ``vigil consume``, ``vigil demo`` (the ``vigil``
command composes them with the others: vigil/cli.py)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from prometheus_client import CollectorRegistry
from rich.console import Console

from adapter.logs import configure_logging
from gateway.events.backends import build_source
from gateway.settings import load_settings
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.settings import TrainerSection, TrainerSettings
from trainer.status_server import StatusServer
from trainer.store import DatasetStore

if TYPE_CHECKING:
    from trainer.judges.refresh import JudgeRefresher

__all__ = ["app", "main"]

app = typer.Typer(help="The trainer: consume events, refresh the LoRA and the judges.",
                  no_args_is_help=True, pretty_exceptions_enable=False)

log = logging.getLogger(__name__)


@app.command()
def consume(
    config: Path | None = typer.Option(None, help="YAML config (events + trainer sections)."),
    once: bool = typer.Option(False, help="Read until caught up, then exit."),
) -> None:
    """Consume the event topics into the trainer's dataset store."""
    settings = load_settings(config, cls=TrainerSettings)
    configure_logging(settings.server.log_level, service="consumer")
    section = settings.trainer
    registry = CollectorRegistry()
    caught_up = threading.Event()
    _serve_status(section, registry, caught_up)
    source = build_source(settings.events, section.group)
    consumer = EventConsumer(source, DatasetStore(section.store_path), ConsumerMetrics(registry))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("consumer started", extra={"backend": settings.events.backend,
                                        "group": section.group,
                                        "store": str(section.store_path)})
    try:
        while not stop.is_set():
            if consumer.run_once() == 0:
                caught_up.set()
                if once:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        source.close()


@app.command("trainer")
def trainer_command(
    config: Path | None = typer.Option(None, help="YAML config (events, judges, trainer)."),
    once: bool = typer.Option(False, help="Catch up on events, run one refresh, exit "
                              "(non-zero if it failed)."),
) -> None:
    """Consume events and refresh the LoRA adapter when enough new flagged traffic arrived."""
    from gateway.judges.language import LanguageJudge
    from gateway.judges.registry import build_harm_scorer
    from trainer.refresh import Refresher, RefreshMetrics

    settings = load_settings(config, cls=TrainerSettings)
    configure_logging(settings.server.log_level, service="trainer")
    section = settings.trainer
    registry = CollectorRegistry()
    caught_up = threading.Event()
    _serve_status(section, registry, caught_up)
    store = DatasetStore(section.store_path)
    refresher = Refresher(settings, store, build_harm_scorer(settings.judges.harm),
                          LanguageJudge(settings.judges.language), RefreshMetrics(registry))
    judges = _judge_refresher(settings, store, registry)
    consumer = (EventConsumer(build_source(settings.events, section.group), store,
                              ConsumerMetrics(registry))
                if settings.events.backend != "none" else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if once:
        if consumer is not None:
            while consumer.run_once(timeout_s=1.0):
                pass
            consumer.source.close()
        try:
            result = refresher.run()
            log.info("refresh finished", extra={"result": result.result,
                                                "adapter": result.adapter})
            if judges is not None:
                judged = judges.run()
                log.info("judge refresh finished", extra={"result": judged.result,
                                                          "version": judged.version})
        except Exception:
            log.exception("refresh failed")
            raise typer.Exit(1) from None
        return
    if consumer is not None:
        threading.Thread(target=consumer.run, args=(stop, caught_up), name="consumer",
                         daemon=True).start()
    else:
        caught_up.set()
    def leave(*_: object) -> None:
        # Also out of a running refresh: it publishes nothing then (its work directory is
        # removed on the way out, or by the next run), so stopping never waits for training.
        stop.set()
        raise _Stopped

    signal.signal(signal.SIGTERM, leave)
    last = last_judged = time.monotonic()
    try:
        while not stop.wait(5.0):
            if judges is not None:
                last_judged = _when_due(
                    "judge refresh", judges.pending, judges.run, section.judges.min_new_labels,
                    section.judges.interval_s, last_judged)
            last = _when_due("refresh", refresher.pending_flagged, refresher.run,
                             section.min_new_flagged, section.interval_s, last)
    except (_Stopped, KeyboardInterrupt):
        log.info("trainer stopped")


def _judge_refresher(settings: TrainerSettings, store: DatasetStore,
                     registry: CollectorRegistry) -> JudgeRefresher | None:
    """The judge refresh, when the gateways judge from a registry (judges.harm.versions_dir)."""
    harm = settings.judges.harm
    if harm.versions_dir is None:
        return None
    from gateway.judges.cli import parse_data
    from trainer.judges.data import DATA_DIR
    from trainer.judges.refresh import JudgeRefresher

    section = settings.trainer.judges
    xstest = DATA_DIR / "xstest_part_a.csv"
    sets = (parse_data(section.gate_sets, "trainer.judges.gate_sets")
            if section.gate_sets is not None
            else [(xstest, "xstest")] if xstest.is_file() else [])
    return JudgeRefresher(store, harm.versions_dir, section.adapt, sets, registry,
                          base=section.base or harm.artefact, guard_weight=section.guard_weight)


def _when_due(what: str, pending: Callable[[], int], run: Callable[[], Any], at_least: int,
              interval_s: float, last: float) -> float:
    """Run a refresh once ``at_least`` new items are pending, or ``interval_s`` after the
    last one if any is; return when the last one ran. A failed refresh publishes nothing, so
    what serves (adapter or judge version) is unchanged."""
    waiting = pending()
    if not (waiting >= at_least or (time.monotonic() - last >= interval_s and waiting)):
        return last
    try:
        result = run()
        log.info(f"{what} finished", extra={"result": result.result,
                                            "published": getattr(result, "adapter", None)
                                            or getattr(result, "version", None)})
    except Exception:
        log.exception(f"{what} failed; what serves is unchanged")
    return time.monotonic()


class _Stopped(BaseException):
    """SIGTERM (a BaseException, so no ``except Exception`` in a refresh swallows it)."""


@app.command()
def demo(
    base_url: str = typer.Option("http://127.0.0.1:8080/v1", help="The gateway's OpenAI "
                                 "base URL (as `vigil up` prints it)."),
    model: str = typer.Option("vigil", help="The alias the rollout serves."),
    rounds: int = typer.Option(1, min=1, help="Refresh cycles to wait for."),
    api_key: str | None = typer.Option(None, envvar="VIGIL_API_KEY", help="Client key."),
    admin_key: str | None = typer.Option(None, envvar="VIGIL_ADMIN_KEY",
                                         help="Admin key (to watch the rollout)."),
    timeout: float = typer.Option(1800.0, help="Give up after this many seconds."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the results here."),
    harmful: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Your own "
                                        "harmful prompts (one a line, or .csv / .jsonl with a "
                                        "`prompt` column), instead of the demo world's."),
    benign: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Your own "
                                       "benign prompts; with --harmful."),
    heldout_share: float = typer.Option(0.2, min=0.01, max=0.99, help="With your prompts: "
                                        "the share held out to measure on, never sent."),
) -> None:
    """Drive mixed traffic through the loop until a refreshed adapter is active, and print a
    before/after table of harmful compliance, over-refusal and language mixing, measured on
    held-out prompts (the demo world's, or a share of yours) that are never sent."""
    import json

    from gateway.judges.embedded import EmbeddedHarmScorer
    from gateway.judges.language import LanguageJudge
    from gateway.settings import LanguageJudgeSettings
    from trainer.demo.check import ComplianceScorer
    from trainer.demo.drive import PromptSet, drive_loop

    if (harmful is None) != (benign is None):
        raise typer.BadParameter("give both --harmful and --benign, or neither",
                                 param_hint="--harmful/--benign")
    try:
        prompts = (PromptSet.from_files(harmful, benign, heldout_share=heldout_share)
                   if harmful is not None and benign is not None else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--harmful/--benign") from exc
    console = Console(stderr=True)
    # The demo world's compliance is placeholder text: measured as its build check measures it.
    harm = EmbeddedHarmScorer() if prompts is not None else ComplianceScorer(EmbeddedHarmScorer())
    run = drive_loop(base_url, model, harm,
                     LanguageJudge(LanguageJudgeSettings(enabled=True)), rounds=rounds,
                     api_key=api_key, admin_key=admin_key, timeout_s=timeout,
                     prompts=prompts,
                     on_progress=lambda line: console.print(f"[dim]{line}[/]"))
    console.print(run.table())
    console.print(f"{run.outcome}: {', '.join(run.adapters) or 'no new adapter'} after "
                  f"{run.requests_sent} requests, {run.seconds:.0f} s")
    if json_out is not None:
        json_out.write_text(json.dumps({
            "before": run.before, "after": run.after, "adapters": run.adapters,
            "history": run.history,
            "requests_sent": run.requests_sent, "seconds": run.seconds,
            "outcome": run.outcome}, indent=2))
    if run.outcome != "activated":
        raise typer.Exit(1)


def _serve_status(section: TrainerSection, registry: CollectorRegistry,
                  caught_up: threading.Event) -> None:
    """/metrics, /healthz and /readyz (ready once the consumer caught up with the bus)."""
    if section.metrics_port:
        StatusServer(section.metrics_host, section.metrics_port, registry,
                     ready=caught_up.is_set).start()


def main() -> None:
    app()
