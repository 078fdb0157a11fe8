"""The embedded serving engine: vLLM's OpenAI server subset on transformers + peft."""
