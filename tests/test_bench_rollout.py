"""The rollout benchmark's measuring parts (bench/rollout.py runs them end to end; a smoke
run of it takes about a minute on the 2-core box, too long for a test): the CPU accounting
that tells this bench's load from other work's, and the timed engine calls it reads the
controller's phases from, against the real engine."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from adapter.engine_control import EngineControl
from adapter.logs import JsonFormatter
from bench.cpu import sample_cpu
from bench.rollout import GatewayLog
from bench.timed_gateway import CALL_LOG, instrument
from tests.servers import EngineProcess


def test_cpu_a_live_child_burns_counts_as_this_bench_not_as_other_work() -> None:
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nend = time.process_time() + 1.0\n"
                              "while time.process_time() < end: pass\n"
                              "print('done', flush=True)\ntime.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        before = sample_cpu()
        assert child.stdout is not None and child.stdout.readline() == "done\n"
        after = sample_cpu()  # the child is alive: a descendant of this process
    finally:
        child.kill()
        child.wait()
    assert after.ours_s - before.ours_s >= 0.9
    assert after.machine_busy_s - before.machine_busy_s >= after.ours_s - before.ours_s - 0.1


def test_timed_engine_calls_log_start_and_end_around_the_real_call(
        engine: EngineProcess, tiny_models: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for attribute in ("load_adapter", "unload_adapter", "chat"):  # undone after the test
        monkeypatch.setattr(EngineControl, attribute, getattr(EngineControl, attribute))
    instrument()
    instrument()  # idempotent: one pair of lines per call, not two
    log_file = tmp_path / "gateway.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bench.timed_gateway")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    control = EngineControl(engine.url, timeout_s=60)
    try:
        control.load_adapter("timed-000001", tiny_models["beta"])
        assert "timed-000001" in control.models()
        control.chat("timed-000001", [{"role": "user", "content": "Hi"}], max_tokens=4)
        control.unload_adapter("timed-000001")
    finally:
        logger.setLevel(logging.NOTSET)
        logger.removeHandler(handler)
        handler.close()
        control.close()
    lines = GatewayLog(log_file).lines("timed-000001")
    assert [(x["msg"], x["call"], x["phase"]) for x in lines] == [
        (CALL_LOG, call, phase) for call in ("load", "probe", "unload")
        for phase in ("start", "end")]
    assert all(x["replica"] == engine.url for x in lines)
    times = [x["t"] for x in lines]
    assert times == sorted(times) and times[-1] - times[0] < 60
    assert json.loads(log_file.read_text().splitlines()[0])["logger"] == "bench.timed_gateway"
