"""The event bus: what the gateway emits (flagged exchanges, replay samples, feedback,
adapter lifecycle), the sinks that deliver it (Kafka or the embedded log) and the sources
the trainer reads it back from."""
