"""The adapter registry: immutable, versioned LoRA directories with their manifests.

A published adapter is ``ROOT/NAME/`` holding PEFT's files and ``manifest.json``. Publishing
copies into a hidden temporary directory first and renames it into place (one atomic
``rename`` on the same filesystem), so a reader never sees half an adapter and a crash
leaves only a ``.tmp-*`` directory that :meth:`AdapterRegistry.clean` removes. Names are never
reused: vLLM serves a stale prefix cache if a name is reloaded with new weights.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from adapter.durable import fsync_dir

__all__ = ["AdapterRegistry", "AdapterState", "Manifest", "RegistryError", "StageRecord",
           "validate_peft_dir"]

_NAME = re.compile(r"^[a-z][a-z0-9-]*-(\d{6})$")
_TMP = ".tmp-"


class RegistryError(ValueError):
    pass


class AdapterState(StrEnum):
    CANDIDATE = "candidate"
    CANARY = "canary"
    ACTIVE = "active"
    RETIRED = "retired"
    ROLLED_BACK = "rolled_back"
    REJECTED = "rejected"


class StateChange(BaseModel):
    state: AdapterState
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reason: str = ""
    percent: int | None = Field(default=None, description="A canary's share of the alias's "
                                "traffic from this change on.")


class StageRecord(BaseModel):
    """One training stage as it ran."""

    name: str  # "sft", "dpo", "grpo"
    config: dict[str, Any]
    seconds: float
    metrics: dict[str, float] = Field(default_factory=dict)


class Manifest(BaseModel):
    name: str
    base_model: str
    parent: str | None = None
    stages: list[StageRecord] = Field(default_factory=list)
    data_window: dict[str, list[int]] = Field(
        default_factory=dict, description="'topic/partition' -> [first, last] source offset")
    counts: dict[str, int] = Field(default_factory=dict)
    config_hash: str = ""
    evaluation: dict[str, Any] | None = None
    states: list[StateChange] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def state(self) -> AdapterState | None:
        return self.states[-1].state if self.states else None


def validate_peft_dir(directory: Path, max_rank: int) -> dict[str, Any]:
    """What vLLM's LoRA loader needs: a PEFT LoRA config with the base model named, no
    ``modules_to_save``, a rank it was started to accept, and the weights."""
    config_file = directory / "adapter_config.json"
    if not config_file.is_file():
        raise RegistryError(f"{directory}: no adapter_config.json")
    if not (directory / "adapter_model.safetensors").is_file():
        raise RegistryError(f"{directory}: no adapter_model.safetensors")
    config = json.loads(config_file.read_text())
    if config.get("peft_type") != "LORA":
        raise RegistryError(f"{directory}: peft_type is {config.get('peft_type')!r}, not LORA")
    if not config.get("base_model_name_or_path"):
        raise RegistryError(f"{directory}: base_model_name_or_path is not set")
    if config.get("modules_to_save"):
        raise RegistryError(f"{directory}: modules_to_save={config['modules_to_save']!r}; "
                            "vLLM cannot serve it")
    if int(config.get("r", 0)) > max_rank:
        raise RegistryError(f"{directory}: rank {config['r']} exceeds max rank {max_rank}")
    return config


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    fsync_dir(directory)


class AdapterRegistry:
    """``validate`` checks a directory before it is published; default: a PEFT LoRA vLLM can
    serve at ``max_rank``. The judges' registry (gateway/judges/versions.py) publishes
    classifier artefacts through the same code with its own check."""

    def __init__(self, root: Path, *, prefix: str = "safety", max_rank: int = 64,
                 validate: Callable[[Path], object] | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_rank = max_rank
        self._validate = validate or (lambda d: validate_peft_dir(d, max_rank))
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._publish_lock = threading.Lock()

    def names(self) -> list[str]:
        """Published adapters, oldest first."""
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and _NAME.match(p.name) and (p / "manifest.json").is_file())

    def next_name(self) -> str:
        taken = [int(m.group(1)) for p in self.root.iterdir()
                 if (m := _NAME.match(p.name.removeprefix(_TMP).rsplit(".", 1)[0]))]
        return f"{self.prefix}-{max(taken, default=0) + 1:06d}"

    def path(self, name: str) -> Path:
        return self.root / name

    def manifest(self, name: str) -> Manifest:
        file = self.root / name / "manifest.json"
        if not file.is_file():
            raise RegistryError(f"no adapter named {name!r}")
        return Manifest.model_validate_json(file.read_text())

    def manifests(self) -> list[Manifest]:
        """Every published adapter's manifest, oldest first."""
        return [self.manifest(n) for n in self.names()]

    def data_window(self) -> dict[str, list[int]]:
        """'topic/partition' -> [first, last] source offset over every published entry: what
        a refresh has already learnt from (rejected ones included)."""
        window: dict[str, list[int]] = {}
        for manifest in self.manifests():
            for key, (lo, hi) in manifest.data_window.items():
                seen = window.get(key, [lo, hi])
                window[key] = [min(lo, seen[0]), max(hi, seen[1])]
        return window

    def with_state(self, state: AdapterState) -> list[str]:
        return [m.name for m in self.manifests() if m.state is state]

    def publish(self, source: Path, manifest: Manifest) -> Path:
        """Copy ``source`` in under ``manifest.name``, atomically."""
        self._validate(source)
        if not _NAME.match(manifest.name):
            raise RegistryError(f"bad adapter name {manifest.name!r}: expected "
                                f"'{self.prefix}-NNNNNN'")
        with self._publish_lock:
            final = self.root / manifest.name
            if final.exists():
                raise RegistryError(f"{manifest.name} exists; adapter names are never reused")
            staging = self.root / f"{_TMP}{manifest.name}.{uuid.uuid4().hex[:8]}"
            shutil.copytree(source, staging)
            if not manifest.states:
                manifest.states.append(StateChange(state=AdapterState.CANDIDATE))
            (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2))
            _fsync_tree(staging)
            os.rename(staging, final)
            fsync_dir(self.root)
        return final

    def transition(self, name: str, state: AdapterState, reason: str = "",
                   percent: int | None = None) -> Manifest:
        """Record a state change in the manifest (atomic replace of the file)."""
        with self._locks[name]:
            manifest = self.manifest(name)
            manifest.states.append(StateChange(state=state, reason=reason, percent=percent))
            self._write_manifest(manifest)
            return manifest

    def clean(self) -> list[str]:
        """Remove what a crash mid-publish left behind; return what was removed."""
        removed = []
        for path in self.root.iterdir():
            if path.name.startswith(_TMP):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def _write_manifest(self, manifest: Manifest) -> None:
        file = self.root / manifest.name / "manifest.json"
        tmp = file.with_suffix(".json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, file)
