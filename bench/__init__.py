"""Benchmarks: speed and memory targets measured side by side in one run (see README.md)."""
