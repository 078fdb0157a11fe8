"""The full ``vigil`` command: the gateway's commands plus the trainer's."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer
from prometheus_client import CollectorRegistry, start_http_server

from adapter.logs import configure_logging
from gateway.cli import app
from gateway.events.backends import build_source
from gateway.settings import load_settings
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.settings import TrainerSettings
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
    if section.metrics_port:
        start_http_server(section.metrics_port, addr=section.metrics_host, registry=registry)
    source = build_source(settings.events, section.group)
    consumer = EventConsumer(source, DatasetStore(section.store_path), ConsumerMetrics(registry))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("consumer started", extra={"backend": settings.events.backend,
                                        "group": section.group,
                                        "store": str(section.store_path)})
    try:
        while not stop.is_set():
            if consumer.run_once() == 0 and once:
                break
    except KeyboardInterrupt:
        pass
    finally:
        source.close()


def main() -> None:
    app()
