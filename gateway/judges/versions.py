"""Judge versions: a registry of immutable harm-classifier artefacts, and the scorer that
judges with its active version and swaps to a new one without a restart.

A version is ``ROOT/harm-NNNNNN/``: a classifier artefact (``model.json``, weights, and the
``correction.npz`` labels taught it, see ``vigil judges adapt``) plus ``manifest.json`` (the
base it was adapted from, the label window and counts, the gate's report, its state history).
Publishing, naming and states are the adapter registry's (adapter/registry.py): copied in
under a temporary name and renamed into place, never reused, states candidate → active →
retired | rolled_back, or rejected with the gate's report. The active version is the one
whose last state is ``active``; with none, gateways judge with the configured artefact.

:class:`VersionedHarmScorer` checks the registry every ``poll_s`` on a background thread,
loads a newly active version there, off the request path, and then swaps one reference:
requests already judging finish with the version they started with, and none fails.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from adapter.registry import AdapterRegistry, AdapterState, Manifest, RegistryError
from gateway.judges.classifier import ARTEFACT_DIR, FORMAT
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.harm import HarmScore

__all__ = ["SHIPPED", "JudgeRegistry", "VersionedHarmScorer", "validate_artefact"]

log = logging.getLogger(__name__)

#: The version name of a judge running the artefact from settings (no registry version).
SHIPPED = "shipped"


def validate_artefact(directory: Path) -> None:
    """What a gateway needs to load a harm classifier version."""
    model = directory / "model.json"
    if not model.is_file() or not (directory / "weights.npz").is_file():
        raise RegistryError(f"{directory}: not a harm classifier (model.json and weights.npz)")
    found = json.loads(model.read_text()).get("format")
    if found != FORMAT:
        raise RegistryError(f"{directory}: format {found!r} is not {FORMAT!r}")


class JudgeRegistry:
    """Versions of one judge (``harm``): publish, the active one, promote, roll back."""

    def __init__(self, root: Path, judge: str = "harm") -> None:
        self.versions = AdapterRegistry(root, prefix=judge, validate=validate_artefact)
        self.root = self.versions.root

    def names(self) -> list[str]:
        return self.versions.names()

    def manifest(self, name: str) -> Manifest:
        return self.versions.manifest(name)

    def path(self, name: str) -> Path:
        return self.versions.path(name)

    def next_name(self) -> str:
        return self.versions.next_name()

    def active(self) -> str | None:
        """The active version (the newest, should two claim it), or None."""
        active = self.versions.with_state(AdapterState.ACTIVE)
        return active[-1] if active else None

    def publish(self, artefact: Path, manifest: Manifest) -> Path:
        """Publish a candidate (it judges nothing until promoted)."""
        return self.versions.publish(artefact, manifest)

    def reject(self, name: str, reason: str) -> None:
        self.versions.transition(name, AdapterState.REJECTED, reason)

    def promote(self, name: str, reason: str = "promoted") -> None:
        """Make ``name`` the active version; the one it replaces is retired."""
        state = self.manifest(name).state
        if state not in (AdapterState.CANDIDATE, AdapterState.RETIRED,
                         AdapterState.ROLLED_BACK, AdapterState.REJECTED):
            raise RegistryError(f"{name} is {state}; only a candidate, retired, rolled back "
                                "or rejected version can be promoted")
        previous = self.active()
        self.versions.transition(name, AdapterState.ACTIVE, reason)
        if previous is not None and previous != name:
            self.versions.transition(previous, AdapterState.RETIRED, f"replaced by {name}")

    def rollback(self, reason: str = "rolled back") -> str | None:
        """Roll the active version back; the version active before it (the newest retired
        one) becomes active again, or, with none, the configured artefact. Returns what is
        active now (None: the artefact)."""
        current = self.active()
        if current is None:
            raise RegistryError("no active judge version to roll back")
        self.versions.transition(current, AdapterState.ROLLED_BACK, reason)
        retired = [m for m in self.versions.manifests() if m.state is AdapterState.RETIRED
                   and any(s.state is AdapterState.ACTIVE for s in m.states)]
        if not retired:
            return None
        previous = max(retired, key=lambda m: m.states[-1].at).name
        self.versions.transition(previous, AdapterState.ACTIVE, f"{current} rolled back")
        return previous


class VersionedHarmScorer:
    """The embedded harm scorer of the registry's active version (or of ``artefact`` while
    none is active), swapped in place when the active version changes."""

    name = "embedded"
    blocking = False

    def __init__(self, registry_dir: Path, artefact: Path | None = None, encoder: bool = True,
                 poll_s: float = 5.0, scorer_options: dict[str, Any] | None = None) -> None:
        """``scorer_options``: keyword arguments of each version's EmbeddedHarmScorer."""
        self.registry = JudgeRegistry(registry_dir)
        self._artefact = artefact
        self._encoder = encoder
        self._scorer_options = scorer_options or {}
        self._poll_s = poll_s
        self._failed: str | None = None  # a version that would not load: not retried
        active = self.registry.active()
        try:
            self.version, self._current = self._load(active)
        except Exception:
            if active is None:
                raise
            log.exception("the active judge version failed to load; judging with the "
                          "configured artefact", extra={"version": active})
            self._failed = active
            self.version, self._current = self._load(None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="judge-versions", daemon=True)
        self._thread.start()

    @property
    def classifier(self):  # type: ignore[no-untyped-def]  # as EmbeddedHarmScorer's
        return self._current.classifier

    def score_prompt(self, prompt: str) -> HarmScore:
        return self._current.score_prompt(prompt)

    def score_response(self, prompt: str, response: str) -> HarmScore:
        return self._current.score_response(prompt, response)

    def close(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """Swap to the registry's active version if it changed; True if it swapped."""
        wanted = self.registry.active() or SHIPPED
        if wanted in (self.version, self._failed):
            return False
        try:
            version, scorer = self._load(None if wanted == SHIPPED else wanted)
        except Exception:
            log.exception("judge version failed to load; the current one keeps judging",
                          extra={"version": wanted, "current": self.version})
            self._failed = wanted
            return False
        self._current, self.version = scorer, version  # one reference: requests never see half
        log.info("judge version swapped", extra={"judge": "harm", "version": version})
        return True

    def _load(self, name: str | None) -> tuple[str, EmbeddedHarmScorer]:
        directory = self.registry.path(name) if name else (self._artefact or ARTEFACT_DIR)
        return name or SHIPPED, EmbeddedHarmScorer(directory, encoder=self._encoder,
                                                      **self._scorer_options)

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.check()
            except Exception:  # a registry being written, a vanished volume: try again
                log.exception("checking the judge registry failed")
