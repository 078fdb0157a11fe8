"""The trainer: consumes events into a dataset store; later stages build LoRA refreshes."""
