"""The full ``vigil`` command: the gateway's commands plus the trainer's."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import typer
from prometheus_client import CollectorRegistry

from adapter.logs import configure_logging
from gateway.cli import app
from gateway.events.backends import build_source
from gateway.settings import load_settings
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.settings import TrainerSection, TrainerSettings
from trainer.status_server import StatusServer
from trainer.store import DatasetStore

__all__ = ["app", "main"]

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
    refresher = Refresher(section, store, build_harm_scorer(settings.judges.harm),
                          LanguageJudge(settings.judges.language), RefreshMetrics(registry))
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
        except Exception:
            log.exception("refresh failed")
            raise typer.Exit(1) from None
        log.info("refresh finished", extra={"result": result.result, "adapter": result.adapter})
        return
    if consumer is not None:
        threading.Thread(target=consumer.run, args=(stop, caught_up), name="consumer",
                         daemon=True).start()
    else:
        caught_up.set()
    last = time.monotonic()
    while not stop.wait(5.0):
        pending = refresher.pending_flagged()
        due = time.monotonic() - last >= section.interval_s
        if pending >= section.min_new_flagged or (due and pending):
            try:
                result = refresher.run()
                log.info("refresh finished", extra={"result": result.result,
                                                    "adapter": result.adapter})
            except Exception:
                log.exception("refresh failed; the registry is unchanged")
            last = time.monotonic()


def _serve_status(section: TrainerSection, registry: CollectorRegistry,
                  caught_up: threading.Event) -> None:
    """/metrics, /healthz and /readyz (ready once the consumer caught up with the bus)."""
    if section.metrics_port:
        StatusServer(section.metrics_host, section.metrics_port, registry,
                     ready=caught_up.is_set).start()


def main() -> None:
    app()
