"""Wall time of one LoRA refresh on the CPU with the tiny model: `vigil trainer --once` on the
test suite's fixture window (7 events of every kind), SFT then DPO, gate included.

    .venv/bin/python -m bench.refresh
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.servers import REPO, EngineProcess
from tests.test_refresh import _config, _fixture_store
from tests.tinymodel import build_tiny_model


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = build_tiny_model(tmp / "base")
        engine = EngineProcess(base, name="tiny").start()
        try:
            _fixture_store(tmp / "store.db")
            config = _config(tmp, base, engine)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vigil", "trainer", "--config",
                            str(config), "--once"], cwd=REPO, check=True,
                           capture_output=True)
            took = time.perf_counter() - started
        finally:
            engine.stop()
    print(f"one refresh (process start, data engine with best-of-2 sampling, SFT 4 steps, "
          f"DPO 2 steps, gate, publish): {took:.1f} s wall")


if __name__ == "__main__":
    main()
