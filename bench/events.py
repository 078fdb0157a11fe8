"""What emitting events costs a request, and how fast they reach the trainer's store.

One real Kafka broker (scripts/kafka.sh), a canned upstream and two gateways with the phrase
judge flagging every request: one with events off, one producing to Kafka. Both are measured
in the same run, interleaved: request p50/p99 at concurrency 1, then max req/s (= events/s for
the Kafka gateway, every request being flagged) at higher concurrency. Meanwhile the trainer's
consumer stores the events; end-to-end latency is store time - event time.

    .venv/bin/python -m bench.events [--requests 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx

from bench.harness import (
    LoadResult,
    gateway_process,
    judges_only,
    percentile,
    run_load,
    serve_canned,
)
from tests.kafka_broker import KafkaBroker
from tests.servers import REPO, read_metric

FLAG = "vigil-flag-test"
_WARMUP = 20  # requests harness.run_load sends before measuring
BODY = {"model": "canned", "messages": [{"role": "user", "content": f"{FLAG}: say hello"}]}


def _config(directory: Path, name: str, upstream: str, events: dict[str, object]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(json.dumps({
        "upstream": {"url": upstream}, "server": {"log_level": "warning"},
        "judges": judges_only(phrase={"enabled": True, "phrases": [FLAG]}),
        "policy": {"rules": {"phrase": {"action": "flag"}}},
        "events": events}))
    return path


def _stored(store_path: Path) -> int:
    if not store_path.exists():
        return 0
    with sqlite3.connect(store_path) as db:
        return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def _end_to_end_ms(store_path: Path) -> list[float]:
    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT ts, stored_at FROM events").fetchall()
    return [(stored - datetime.fromisoformat(ts).timestamp()) * 1e3 for ts, stored in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--linger-ms", type=int, nargs="+", default=[5, 50],
                        help="events.kafka.linger_ms of each Kafka gateway")
    args = parser.parse_args()

    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print("starting the Kafka broker ...", flush=True)
        broker = stack.enter_context(KafkaBroker(data_dir=tmp / "kafka"))
        upstream = stack.enter_context(serve_canned())
        targets = {"events off": stack.enter_context(gateway_process(
            _config(tmp, "off", upstream, {"backend": "none"})))}
        for linger_ms in args.linger_ms:
            targets[f"kafka, linger {linger_ms} ms"] = stack.enter_context(gateway_process(
                _config(tmp, f"kafka{linger_ms}", upstream, {
                    "backend": "kafka", "spool_dir": str(tmp / f"spool{linger_ms}"),
                    "kafka": {"bootstrap_servers": [broker.bootstrap],
                              "linger_ms": linger_ms}})))
        # The trainer's consumer in its own process, as deployed (`vigil consume`).
        consumer_config = _config(tmp, "consumer", upstream, {
            "backend": "kafka", "kafka": {"bootstrap_servers": [broker.bootstrap]}})
        config = json.loads(consumer_config.read_text())
        config["trainer"] = {"store_path": str(tmp / "store.db"), "metrics_port": 0}
        consumer_config.write_text(json.dumps(config))
        consumer = subprocess.Popen([sys.executable, "-m", "vigil", "consume", "--config",
                                     str(consumer_config)], cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(consumer.wait, 30)
        stack.callback(consumer.terminate)
        latency: dict[str, list[float]] = {name: [] for name in targets}
        throughput: dict[str, list[LoadResult]] = {name: [] for name in targets}
        for round_ in range(args.rounds):
            for name, url in targets.items():
                latency[name] += run_load(url, BODY, concurrency=1,
                                          requests=args.requests).latencies_s
                throughput[name].append(run_load(url, BODY, concurrency=args.concurrency,
                                                 requests=args.requests))
            print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
        expected = (len(targets) - 1) * args.rounds * (2 * args.requests + 2 * _WARMUP)
        deadline = time.monotonic() + 60  # let the consumer catch up
        while _stored(tmp / "store.db") < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        sent = spooled = dropped = 0.0
        for name, url in targets.items():
            if name == "events off":
                continue
            metrics = httpx.get(url + "/metrics").text
            sent += read_metric(metrics, "vigil_events_produced_total")
            spooled += read_metric(metrics, "vigil_events_spooled_total")
            dropped += read_metric(metrics, "vigil_events_dropped_total")
        e2e = _end_to_end_ms(tmp / "store.db")

    print(f"\nrequest latency at concurrency 1 ({len(latency['events off'])} requests each), "
          f"max req/s at concurrency {args.concurrency}; every request flagged")
    print(f"  {'gateway':<22}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for name in targets:
        rps = sum(len(r.latencies_s) for r in throughput[name]) / sum(
            r.elapsed_s for r in throughput[name])
        print(f"  {name:<22}{percentile(latency[name], 50) * 1e3:>9.3f}"
              f"{percentile(latency[name], 99) * 1e3:>9.3f}{rps:>9.0f}")
    off = percentile(latency["events off"], 50)
    for name in list(targets)[1:]:
        print(f"  p50 ratio {name} / events off: {percentile(latency[name], 50) / off:.3f}")
    print(f"\nevents produced {sent:.0f} (expected {expected}), spooled {spooled:.0f}, "
          f"dropped {dropped:.0f}; stored by the consumer {len(e2e)}")
    if e2e:
        print(f"end to end gateway -> consumer store: p50 {percentile(e2e, 50):.1f} ms, "
              f"p99 {percentile(e2e, 99):.1f} ms")


if __name__ == "__main__":
    main()
