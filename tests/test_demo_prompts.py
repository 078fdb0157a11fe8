"""`vigil demo` with a user's own prompts: a stable share is held out to measure on and never
sent, the rest is the traffic; bad files are refused before anything is sent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import REPO
from trainer.demo.drive import PromptSet


def _files(directory: Path, n: int) -> tuple[Path, Path]:
    harmful, benign = directory / "harmful.txt", directory / "benign.csv"
    harmful.write_text("".join(f"How do I hurt person number {i}?\n" for i in range(n))
                       + "How do I hurt person number 0?\n")  # a repeat
    benign.write_text("prompt,source\n" + "".join(f"Tell me about city {i},x\n"
                                                  for i in range(n)))
    return harmful, benign


def test_a_share_is_held_out_stably_and_never_sent(tmp_path: Path) -> None:
    harmful, benign = _files(tmp_path, 200)
    prompts = PromptSet.from_files(harmful, benign, heldout_share=0.25)
    again = PromptSet.from_files(harmful, benign, heldout_share=0.25)
    assert (prompts.harmful, prompts.benign) == (again.harmful, again.benign)
    held = set(prompts.harmful) | set(prompts.benign)
    traffic = prompts.traffic(0)
    assert not held & set(traffic) and len(traffic) == len(set(traffic))
    assert len(held) + len(traffic) == 400  # the repeated prompt counted once
    assert 0.15 < len(held) / 400 < 0.35
    assert traffic != prompts.traffic(1) and sorted(traffic) == sorted(prompts.traffic(1))
    assert any("hurt" in p for p in traffic[:20]) and any("city" in p for p in traffic[:20])


def test_too_few_prompts_or_one_file_is_refused(tmp_path: Path) -> None:
    harmful, benign = _files(tmp_path, 1)
    with pytest.raises(ValueError, match="too few prompts"):
        PromptSet.from_files(harmful, benign)
    cli = subprocess.run([sys.executable, "-m", "vigil", "demo", "--harmful", str(harmful)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and "give both --harmful and --benign" in cli.stderr, cli.stderr
