"""How much CPU other work took while a bench ran: the machine's busy time (/proc/stat)
minus this process tree's (/proc/PID/stat of this process and its descendants).

On a shared box a slow window may be the other work's doing; benches record the cores it
used per window beside their latencies, so a reader can tell. Linux only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSample", "sample_cpu"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuSample:
    machine_busy_s: float  # every core's non-idle time since boot
    ours_s: float  # user + system time of this process and its live descendants

    def foreign_cores(self, earlier: CpuSample, seconds: float) -> float:
        """Average cores busy with other work between ``earlier`` and this sample."""
        machine = self.machine_busy_s - earlier.machine_busy_s
        ours = self.ours_s - earlier.ours_s
        return max(machine - ours, 0.0) / seconds if seconds > 0 else 0.0


def _stat(pid: str) -> tuple[int, float] | None:
    """Parent pid and user + system seconds of ``pid`` (None if it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def sample_cpu() -> CpuSample:
    # "cpu user nice system idle iowait irq softirq steal ..." in ticks
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(values[:8]) - values[3] - values[4]) / _TICK
    stats = {pid: s for pid in os.listdir("/proc") if pid.isdigit()
             if (s := _stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(int(pid))
    ours, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        if str(pid) in stats:
            ours += stats[str(pid)][1]
        todo += children.get(pid, [])
    return CpuSample(busy, ours)
