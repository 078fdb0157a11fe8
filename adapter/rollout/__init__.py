"""Rollout: a gated adapter is loaded on every serving replica, probed, given a growing share
of its alias's traffic (canary), and promoted or rolled back on the live judge rates."""

from __future__ import annotations

from adapter.rollout.canary import ArmStats, CanaryCheck, compare_arms
from adapter.rollout.controller import RolloutController, RolloutError, Transition
from adapter.rollout.fleet import Fleet, ReplicaView
from adapter.rollout.settings import RolloutSettings
from adapter.rollout.split import TrafficSplit

__all__ = ["ArmStats", "CanaryCheck", "Fleet", "ReplicaView", "RolloutController",
           "RolloutError", "RolloutSettings", "TrafficSplit", "Transition", "compare_arms"]
