"""Policy: turns judges' verdicts into one decision (allow, flag, redact or block)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from gateway.judges.base import Action, Verdict, Where
from gateway.settings import PolicySettings

__all__ = ["REDACTED", "Decision", "Policy", "PolicyError", "PolicyFile", "load_policy_file",
           "redact"]

REDACTED = "[REDACTED]"


@dataclass(slots=True)
class Decision:
    """The most severe action any verdict called for, and every verdict with its action."""

    action: Action = Action.ALLOW
    verdicts: list[Verdict] = field(default_factory=list)

    def merge(self, other: Decision) -> Decision:
        action = max(self.action, other.action, key=lambda a: a.severity)
        return Decision(action=action, verdicts=[*self.verdicts, *other.verdicts])

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK


class Policy:
    """Rules per category, overridden per tenant, and where each judge may run."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self._rules = dict(settings.rules)
        self._tenant_rules = {tenant: {**self._rules, **t.rules}
                              for tenant, t in settings.tenants.items()}
        self._messages = {tenant: t.blocked_message for tenant, t in settings.tenants.items()
                          if t.blocked_message}
        self._placement = {name: frozenset(Where(p) for p in parts)
                           for name, parts in settings.judges.items()}
        self.blocked_message = settings.blocked_message

    def runs(self, judge: str, where: Where) -> bool:
        """May ``judge`` run on ``where``? (The judge's own ``apply_to`` still applies.)"""
        parts = self._placement.get(judge)
        return parts is None or where in parts

    def threshold(self, category: str, tenant: str = "") -> float:
        """The score from which a verdict of ``category`` counts (0.5 without a rule)."""
        rule = self._tenant_rules.get(tenant, self._rules).get(category)
        return rule.threshold if rule else 0.5

    def blocked_message_for(self, tenant: str) -> str:
        return self._messages.get(tenant, self.blocked_message)

    def decide(self, verdicts: list[Verdict], tenant: str = "") -> Decision:
        rules = self._tenant_rules.get(tenant, self._rules)
        decision = Decision()
        for verdict in verdicts:
            rule = rules.get(verdict.category)
            action = rule.action if rule and verdict.score >= rule.threshold else Action.ALLOW
            verdict.action = action
            decision.verdicts.append(verdict)
            if action.severity > decision.action.severity:
                decision.action = action
        return decision


class PolicyError(ValueError):
    """An invalid policy file; the message names the bad key."""


def load_policy_file(path: Path) -> Policy:
    """Read and validate a policy file (the ``policy:`` section's keys at top level)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path}: expected a mapping at the top level")
    data.pop("file", None)
    try:
        return Policy(PolicySettings(**data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise PolicyError(f"invalid policy file {path}: {problems}") from exc


class PolicyFile:
    """A policy file that is re-read when it changes. A bad edit is rejected (logged and
    counted by the caller) and the running policy stays."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.policy = load_policy_file(path)
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def changed(self) -> bool:
        return self._stat() != self._mtime

    def reload(self) -> Policy:
        """Load the file now; on success it becomes :attr:`policy`, else PolicyError."""
        mtime = self._stat()
        try:
            self.policy = load_policy_file(self.path)
        finally:
            self._mtime = mtime  # a bad version is reported once, not on every check
        return self.policy


def redact(text: str, verdicts: list[Verdict]) -> str:
    """Replace the spans of every ``redact`` verdict in ``text`` with ``[REDACTED]``;
    overlapping spans (two judges, or two patterns) become one marker."""
    spans = sorted((s.start, min(s.end, len(text))) for v in verdicts
                   if v.action is Action.REDACT for s in v.spans)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + REDACTED + text[end:]
    return text
