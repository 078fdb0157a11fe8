"""The judge refresh: labels → adapt → gate → publish into the judge registry.

Labels are the ``judge_label`` events in the dataset store: reviewers' verdicts sent through
``/v1/feedback`` and the guard model's verdicts on cases the embedded judge was unsure of.
Other feedback never arrives here: the gateway only turns a reviewer key's verdict into a
label. Every refresh adapts the configured base classifier (not the live version, so
versions never drift on each other) on every label so far, reviewers' weighing more than the
guard's and a reviewer's verdict overriding the guard's on the same text; a share of the
labels is held out for the gate (trainer/judges/adapt.py).

A candidate is published into the registry either way: promoted when the gate passes, else
kept as ``rejected`` with its report. Gateways watching the registry swap to a promoted
version (gateway/judges/versions.py). Anything that fails before the publish leaves the
registry, and so the live version, as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from adapter.registry import Manifest, StageRecord
from gateway.events.schema import JudgeLabel
from gateway.judges.classifier import ARTEFACT_DIR, HarmClassifier
from gateway.judges.datasets import LabeledPrompt
from gateway.judges.versions import JudgeRegistry
from trainer.judges.adapt import (
    AdaptConfig,
    adapt,
    anchor_rows,
    describe_sets,
    gate_versions,
    read_fixed_sets,
    split_labels,
)
from trainer.judges.data import Manifest as DataManifest
from trainer.judges.data import default_dirs
from trainer.store import DatasetStore, StoredEvent, span_of

__all__ = ["JudgeRefreshResult", "JudgeRefresher", "labels_of"]

log = logging.getLogger(__name__)

KIND = "judge_label"


@dataclass
class JudgeRefreshResult:
    result: str  # published | rejected | no_data
    version: str | None = None
    report: dict[str, Any] | None = None


def labels_of(events: list[StoredEvent]) -> list[LabeledPrompt]:
    """Training rows from label events: one row per (part, text, request), a reviewer's
    verdict over the guard's, a later one over an earlier one. A row's category names its
    source (``label:reviewer`` or ``label:guard``)."""
    chosen: dict[tuple[str, str, str], JudgeLabel] = {}
    for stored in events:
        label = stored.event
        if not isinstance(label, JudgeLabel):
            continue
        key = (label.where.value, label.text, label.prompt)
        held = chosen.get(key)
        if held is None or held.source == "guard" or label.source == "reviewer":
            chosen[key] = label
    return [LabeledPrompt(label.text, label.harmful, hazard=label.hazard,
                          category=f"label:{label.source}", language="und",
                          group=f"label:{label.response_id or label.event_id}",
                          kind="request" if label.where.value == "input" else "reply",
                          prompt=label.prompt)
            for label in chosen.values()]


class JudgeRefresher:
    def __init__(self, store: DatasetStore, registry_dir: Path, config: AdaptConfig,
                 gate_sets: list[tuple[Path, str]], registry: CollectorRegistry | None = None,
                 *, base: Path | None = None, guard_weight: float = 0.5,
                 data_dir: Path | None = None) -> None:
        self.store = store
        self.registry = JudgeRegistry(registry_dir)
        self.config = config
        self.gate_sets = gate_sets
        self.base_dir = base or ARTEFACT_DIR
        self.guard_weight = guard_weight
        self.data_dir = data_dir
        self.refreshes = Counter("vigil_trainer_judge_refreshes", "Judge refreshes by result "
                                 "(published, rejected, no_data, failed)", ["result"],
                                 registry=registry or CollectorRegistry())

    def pending(self) -> int:
        """Labels no version was trained on yet."""
        return self.store.count_after(self.registry.versions.data_window(), KIND)

    def run(self) -> JudgeRefreshResult:
        try:
            result = self._run()
        except Exception:
            self.refreshes.labels("failed").inc()
            raise
        self.refreshes.labels(result.result).inc()
        return result

    def _run(self) -> JudgeRefreshResult:
        self.registry.versions.clean()
        events = list(self.store.events(KIND))
        rows = labels_of(events)
        if not rows:
            return JudgeRefreshResult("no_data")
        fit, held = split_labels(rows, self.config)
        if not fit:
            return JudgeRefreshResult("no_data")
        started = time.monotonic()
        base = HarmClassifier.load(self.base_dir)
        active = self.registry.active()
        live = HarmClassifier.load(self.registry.path(active)) if active else base
        anchors, replay = anchor_rows(DataManifest.load(), default_dirs(self.data_dir),
                                      self.config.anchor_rows, self.config.seed)
        candidate = adapt(base, fit, anchors, self.config,
                          label_weights=[self.guard_weight if r.category == "label:guard"
                                         else 1.0 for r in fit])
        report = gate_versions(live, candidate, held, read_fixed_sets(self.gate_sets),
                               self.config)
        name = self.registry.next_name()
        candidate.metadata["adaptation"] = {"version": name, "live": active, "gate": report,
                                            "replay": replay}
        work = self.registry.root / f".tmp-work-{name}-{uuid.uuid4().hex[:6]}"
        try:
            candidate.save(work)
            manifest = Manifest(
                name=name, base_model=str(self.base_dir), parent=active,
                stages=[StageRecord(name="adapt", config=json.loads(json.dumps(
                    candidate.metadata["correction"]["config"])),
                    seconds=round(time.monotonic() - started, 1))],
                data_window=span_of(events),
                counts={"labels": len(rows), "fitted": len(fit), "held_out": len(held),
                        "reviewer": sum(r.category == "label:reviewer" for r in rows),
                        "replay": replay["rows"]},
                evaluation={**report, "gate_sets": describe_sets(self.gate_sets)})
            self.registry.publish(work, manifest)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if report["passed"]:
            self.registry.promote(name, "gate passed")
        else:
            self.registry.reject(name, "; ".join(report["reasons"]))
        log.info("judge refresh", extra={"version": name, "passed": report["passed"],
                                         "reasons": report["reasons"], "labels": len(rows)})
        return JudgeRefreshResult("published" if report["passed"] else "rejected", name,
                                  report)

