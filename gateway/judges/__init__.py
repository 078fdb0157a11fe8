"""Judges: each scores text for one concern; the policy turns their verdicts into actions."""
